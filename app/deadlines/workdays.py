"""Working-day arithmetic for deadlines (Nghị định 30: hạn xử lý tính theo ngày làm việc).

A day is a working day when it is Monday–Friday and not a public holiday, unless the agency (or the
province) marked it otherwise in ``day_off``: ``off`` closes a weekday, ``work`` opens a weekend day
(ngày làm bù). Each call reads only the ``day_off`` rows of the range it needs: nothing is cached in
process memory, so every node sees an admin's change at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import holidays
from sqlalchemy import or_, select

from app.extensions import db

from .models import OFF, DayOff

_ONE = dt.timedelta(days=1)
# add_working_days reads day_off in windows; a window this long always holds > n working days in practice.
_WINDOW_PAD = 45


@dataclass(frozen=True)
class DayOffInfo:
    id: int
    agency_id: int | None
    day: dt.date
    kind: str
    name: str


@lru_cache(maxsize=64)
def public_holidays(year: int) -> dict[dt.date, str]:
    """Vietnamese public holidays of ``year`` with their Vietnamese names (Tết, Giỗ Tổ, 30/4, 2/9…)."""
    return dict(holidays.country_holidays("VN", years=year, language="vi").items())


def _overrides(lo: dt.date, hi: dt.date, agency_id: int | None) -> dict[dt.date, str]:
    """day -> kind for lo..hi; an agency's own row wins over the province-wide one."""
    scope = DayOff.agency_id.is_(None)
    if agency_id is not None:
        scope = or_(scope, DayOff.agency_id == agency_id)
    rows = db.session.execute(
        select(DayOff.day, DayOff.kind, DayOff.agency_id).where(DayOff.day >= lo, DayOff.day <= hi, scope)
    ).all()
    # Province rows first, so the agency's own row for the same day overwrites them.
    return {r.day: r.kind for r in sorted(rows, key=lambda r: r.agency_id is not None)}


def _is_working(day: dt.date, overrides: dict[dt.date, str]) -> bool:
    kind = overrides.get(day)
    if kind is not None:
        return kind != OFF
    return day.weekday() < 5 and day not in public_holidays(day.year)


def is_working_day(day: dt.date, *, agency_id: int | None = None) -> bool:
    return _is_working(day, _overrides(day, day, agency_id))


def add_working_days(start: dt.date, n: int, *, agency_id: int | None = None) -> dt.date:
    """The day ``n`` working days after ``start`` (before it when ``n`` < 0); ``start`` itself never counts."""
    step = _ONE if n >= 0 else -_ONE
    remaining = abs(n)
    current = start
    while remaining > 0:
        span = dt.timedelta(days=remaining * 2 + _WINDOW_PAD)
        lo, hi = (current, current + span) if n >= 0 else (current - span, current)
        overrides = _overrides(lo, hi, agency_id)
        while remaining > 0 and lo <= current + step <= hi:
            current += step
            if _is_working(current, overrides):
                remaining -= 1
    return current


def working_days_between(a: dt.date, b: dt.date, *, agency_id: int | None = None) -> int:
    """Working days in (a, b]: 0 for the same day, negative when ``b`` is before ``a``."""
    if b < a:
        return -working_days_between(b, a, agency_id=agency_id)
    overrides = _overrides(a, b, agency_id)
    count = 0
    day = a + _ONE
    while day <= b:
        count += _is_working(day, overrides)
        day += _ONE
    return count


def next_working_day(day: dt.date, *, agency_id: int | None = None) -> dt.date:
    return add_working_days(day, 1, agency_id=agency_id)


def previous_working_day(day: dt.date, *, agency_id: int | None = None) -> dt.date:
    return add_working_days(day, -1, agency_id=agency_id)


def day_kind_label(day: dt.date, *, agency_id: int | None = None) -> str | None:
    """Why ``day`` is not an ordinary weekday, in Vietnamese (for calendars); None when it is ordinary."""
    overrides = _overrides(day, day, agency_id)
    if day in overrides:
        return "Ngày nghỉ" if overrides[day] == OFF else "Ngày làm bù"
    return public_holidays(day.year).get(day)


def province_add_working_days(start: dt.date, n: int) -> dt.date:
    """The province-wide calendar: what the workflow's dueDays rule uses (it does not know the agency)."""
    return add_working_days(start, n)
