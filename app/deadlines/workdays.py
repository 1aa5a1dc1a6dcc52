"""Working-day arithmetic for deadlines (Nghị định 30: hạn xử lý tính theo ngày làm việc).

A day is a working day when it is Monday–Friday and not a public holiday, unless the agency (or the
province) marked it otherwise in ``day_off``: ``off`` closes a weekday, ``work`` opens a weekend day
(ngày làm bù). The rows of one agency-year are read once and kept in process memory for
``DAYS_OFF_CACHE_SECONDS`` (a workflow step that sets a deadline and its notification would otherwise
query ``day_off`` two or three times): a change made here is seen at once by this process, and by the
other processes (web workers, the job worker) within that minute.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import holidays
from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

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


DAYS_OFF_CACHE_SECONDS = 60.0
_cache: dict[tuple[str, int | None, int], tuple[float, dict[dt.date, str]]] = {}
_cache_lock = threading.Lock()


def forget_days_off() -> None:
    """Drop the cached calendars (the services call this when they change a day), and again when the
    change commits or rolls back: a read in between may have cached what the transaction had flushed."""
    with _cache_lock:
        _cache.clear()
    db.session.info[_CHANGED] = True


_CHANGED = "qlvb.days_off_changed"


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_after_transaction(session: Session, *_: Any) -> None:
    if session.info.pop(_CHANGED, False):
        with _cache_lock:
            _cache.clear()


def _year_overrides(agency_id: int | None, year: int) -> dict[dt.date, str]:
    key = (str(db.engine.url), agency_id, year)
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and now - cached[0] < DAYS_OFF_CACHE_SECONDS:
        return cached[1]
    scope = DayOff.agency_id.is_(None)
    if agency_id is not None:
        scope = or_(scope, DayOff.agency_id == agency_id)
    rows = db.session.execute(
        select(DayOff.day, DayOff.kind, DayOff.agency_id)
        .where(DayOff.day >= dt.date(year, 1, 1), DayOff.day <= dt.date(year, 12, 31), scope)
    ).all()
    # Province rows first, so the agency's own row for the same day overwrites them.
    overrides = {r.day: r.kind for r in sorted(rows, key=lambda r: r.agency_id is not None)}
    with _cache_lock:
        _cache[key] = (now, overrides)
    return overrides


def _overrides(lo: dt.date, hi: dt.date, agency_id: int | None) -> dict[dt.date, str]:
    """day -> kind for (at least) lo..hi; an agency's own row wins over the province-wide one."""
    if lo.year == hi.year:
        return _year_overrides(agency_id, lo.year)
    merged: dict[dt.date, str] = {}
    for year in range(lo.year, hi.year + 1):
        merged.update(_year_overrides(agency_id, year))
    return merged


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
