"""Reporting periods in Vietnam's calendar."""

from __future__ import annotations

import datetime as dt

import pytest

from app.stats.errors import StatsPeriodError
from app.stats.periods import Period, make_period

TODAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize(("period", "start", "end", "label"), [
    (Period("month", 2026, 12), dt.date(2026, 12, 1), dt.date(2027, 1, 1), "Tháng 12/2026"),
    (Period("month", 2026, 2), dt.date(2026, 2, 1), dt.date(2026, 3, 1), "Tháng 02/2026"),
    (Period("quarter", 2026, 4), dt.date(2026, 10, 1), dt.date(2027, 1, 1), "Quý IV/2026"),
    (Period("quarter", 2026, 1), dt.date(2026, 1, 1), dt.date(2026, 4, 1), "Quý I/2026"),
    (Period("year", 2025), dt.date(2025, 1, 1), dt.date(2026, 1, 1), "Năm 2025"),
])
def test_bounds_and_labels(period, start, end, label):
    assert (period.start, period.end, period.label) == (start, end, label)


def test_timestamps_start_at_midnight_in_vietnam():
    period = Period("month", 2026, 3)
    assert period.start_at == dt.datetime(2026, 2, 28, 17, 0, tzinfo=dt.UTC)
    assert period.end_at == dt.datetime(2026, 3, 31, 17, 0, tzinfo=dt.UTC)


def test_defaults_are_the_current_period():
    assert make_period("quarter", None, None, today=TODAY) == Period("quarter", 2026, 4)
    assert make_period("month", "2026", "", today=TODAY) == Period("month", 2026, 11)
    assert make_period(None, None, None, today=TODAY) == Period("year", 2026, 1)


@pytest.mark.parametrize(("kind", "year", "number", "message"), [
    ("week", 2026, 1, "tháng, quý hoặc năm"), ("month", 2026, 13, "Tháng phải từ 1 đến 12"),
    ("quarter", 2026, 0, "Quý phải từ 1 đến 4"), ("year", 1990, None, "Năm thống kê phải từ 2000"),
    ("month", "hai", 1, "không phải là số"),
])
def test_bad_periods_are_refused_in_vietnamese(kind, year, number, message):
    with pytest.raises(StatsPeriodError, match=message):
        make_period(kind, year, number, today=TODAY)
