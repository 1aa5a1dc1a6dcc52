"""Rules for the deadlines set while an incoming document is assigned (Điều 24 NĐ 30: the leader sets the time
limit, the head of the lead unit hands the work on within it).

- No deadline before today: a time limit that has already passed helps nobody and hides a typing error.
- The head's deadline for the specialist (``assign_person``) may not be later than the document's deadline, which
  is the one the leader set at ``assign`` (or, when the leader set none, the one registered with the document).

Errors name the form field (``deadline``) so the page shows them next to it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.core import clock
from app.core.errors import ValidationError
from app.extensions import db

from .models import Document

FIELD = "deadline"


def parse_day(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(str(value).strip(), fmt).date()
        except ValueError:
            continue
    raise ValidationError("Hạn xử lý không hợp lệ", field_errors={FIELD: ["Ngày không hợp lệ (dd/mm/yyyy)."]})


def check_not_past(value: Any) -> dt.date | None:
    """The deadline as a date, refused when it is before today (Vietnam time)."""
    day = parse_day(value)
    today = clock.today()
    if day is not None and day < today:
        raise ValidationError("Hạn xử lý đã qua",
                              field_errors={FIELD: [f"Hạn xử lý không được trước hôm nay ({today:%d/%m/%Y})."]})
    return day


def check_person_deadline(document_id: int, value: Any) -> dt.date | None:
    """The head's deadline for the specialist: not past, and within the leader's deadline for the document."""
    day = check_not_past(value)
    if day is None:
        return None
    doc = db.session.get(Document, document_id)
    limit = doc.due_date if doc is not None else None
    if limit is not None and day > limit:
        raise ValidationError(
            "Hạn giao chuyên viên muộn hơn hạn lãnh đạo đã giao",
            field_errors={FIELD: [f"Không được muộn hơn hạn lãnh đạo đã giao cho văn bản ({limit:%d/%m/%Y})."]})
    return day
