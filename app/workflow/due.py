"""Due dates: working days skip weekends and Vietnamese public holidays (Tết included)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import lru_cache

import holidays

from app.core import clock

# A task given "N working days" is due at the end of the Nth working day, local time.
END_OF_DAY = dt.time(17, 0)


@lru_cache(maxsize=64)
def _vn_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("VN", years=year).keys())


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _vn_holidays(day.year)


def add_working_days(start: dt.date, days: int) -> dt.date:
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def end_of_day(day: dt.date) -> dt.datetime:
    """The deadline instant of ``day`` (17:00 Vietnam time), as aware UTC."""
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=clock.VN_TZ).astimezone(dt.UTC)


# The app installs the full calendar (agency days off, make-up Saturdays) at start; this adapter may not import it.
_calendar: Callable[[dt.date, int], dt.date] = add_working_days


def set_workday_calendar(fn: Callable[[dt.date, int], dt.date] | None) -> None:
    global _calendar
    _calendar = fn or add_working_days


def due_in_working_days(days: int, *, start: dt.date | None = None) -> dt.datetime:
    return end_of_day(_calendar(start or clock.today(), days))
