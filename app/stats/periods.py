"""Reporting periods: a month, a quarter or a year, in Vietnam's calendar (dates people see)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.core.clock import VN_TZ

from .errors import StatsPeriodError

KINDS: dict[str, str] = {"month": "Tháng", "quarter": "Quý", "year": "Năm"}
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


@dataclass(frozen=True)
class Period:
    kind: str
    year: int
    number: int = 1

    @property
    def start(self) -> dt.date:
        if self.kind == "month":
            return dt.date(self.year, self.number, 1)
        if self.kind == "quarter":
            return dt.date(self.year, 3 * self.number - 2, 1)
        return dt.date(self.year, 1, 1)

    @property
    def end(self) -> dt.date:
        """The first day after the period (ranges are half-open)."""
        if self.kind == "month":
            return dt.date(self.year + self.number // 12, self.number % 12 + 1, 1)
        if self.kind == "quarter":
            return dt.date(self.year + self.number // 4, (3 * self.number) % 12 + 1, 1)
        return dt.date(self.year + 1, 1, 1)

    @property
    def start_at(self) -> dt.datetime:
        """Midnight in Vietnam at the start, as an aware datetime (timestamps are compared in UTC)."""
        return dt.datetime.combine(self.start, dt.time(), VN_TZ).astimezone(dt.UTC)

    @property
    def end_at(self) -> dt.datetime:
        return dt.datetime.combine(self.end, dt.time(), VN_TZ).astimezone(dt.UTC)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"Tháng {self.number:02d}/{self.year}"
        if self.kind == "quarter":
            return f"Quý {_ROMAN[self.number]}/{self.year}"
        return f"Năm {self.year}"

    @property
    def slug(self) -> str:
        return f"{self.year}" if self.kind == "year" else f"{self.year}-{self.kind[0]}{self.number:02d}"


def make_period(kind: str | None, year: int | str | None, number: int | str | None, *, today: dt.date) -> Period:
    """Validate user input into a Period; missing parts default to the current one."""
    kind = (kind or "year").strip()
    if kind not in KINDS:
        raise StatsPeriodError("Kỳ thống kê phải là tháng, quý hoặc năm.", field_errors={"kind": ["Không hợp lệ."]})
    try:
        y = int(year) if year not in (None, "") else today.year
        n = int(number) if number not in (None, "") else (
            today.month if kind == "month" else (today.month - 1) // 3 + 1 if kind == "quarter" else 1)
    except (TypeError, ValueError):
        raise StatsPeriodError("Năm hoặc kỳ thống kê không phải là số.") from None
    if not 2000 <= y <= today.year + 1:
        raise StatsPeriodError(f"Năm thống kê phải từ 2000 đến {today.year + 1}.",
                               field_errors={"year": ["Ngoài khoảng."]})
    limit = {"month": 12, "quarter": 4, "year": 1}[kind]
    if not 1 <= n <= limit:
        raise StatsPeriodError(f"{KINDS[kind]} phải từ 1 đến {limit}.", field_errors={"number": ["Ngoài khoảng."]})
    return Period(kind, y, n if kind != "year" else 1)
