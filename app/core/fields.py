"""Form values as services read them; each problem is added to ``errors[field]`` so the form shows all at once.

Dates come as ``2026-03-05`` from a date input or ``05/03/2026`` as Vietnamese write them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .text import nfc

INPUT_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


def parse_date(value: Any) -> dt.date | None:
    """The day ``value`` names: a date, a datetime's day, or text that starts with one; otherwise ``None``."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()[:10]
    for fmt in INPUT_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def date_field(value: Any, field: str, errors: dict[str, list[str]], *, required: bool = False) -> dt.date | None:
    """Parse a form's date; an unreadable one, or a missing one when ``required``, adds its message to ``errors``."""
    if value in (None, ""):
        if required:
            errors.setdefault(field, []).append("Không được để trống")
        return None
    day = parse_date(value)
    if day is None:
        errors.setdefault(field, []).append("Ngày không hợp lệ (dd/mm/yyyy)")
    return day


def text_field(value: str | None, field: str, errors: dict[str, list[str]], *, max_length: int,
               required: bool = False) -> str:
    """The text stripped and in NFC; an empty one when ``required``, or a longer one, adds its message."""
    text = nfc((value or "").strip())
    if not text:
        if required:
            errors.setdefault(field, []).append("Không được để trống")
    elif len(text) > max_length:
        errors.setdefault(field, []).append(f"Không quá {max_length} ký tự")
    return text
