"""Changing the days-off calendar (admin pages call these; they flush, the caller commits)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.core.errors import NotFoundError, ValidationError
from app.core.text import nfc
from app.extensions import db

from .models import KINDS, DayOff
from .workdays import DayOffInfo, forget_days_off


def _info(row: DayOff) -> DayOffInfo:
    return DayOffInfo(row.id, row.agency_id, row.day, row.kind, row.name)


def set_day(day: dt.date, kind: str, name: str, *, agency_id: int | None) -> DayOffInfo:
    """Mark ``day`` closed (``off``) or worked (``work``) for an agency, or the province when agency_id is None."""
    if kind not in KINDS:
        raise ValidationError("Loại ngày không hợp lệ", field_errors={"kind": ["Chọn ngày nghỉ hoặc ngày làm bù"]})
    scope = DayOff.agency_id.is_(None) if agency_id is None else DayOff.agency_id == agency_id
    row = db.session.scalar(select(DayOff).where(DayOff.day == day, scope))
    if row is None:
        row = DayOff(agency_id=agency_id, day=day)
        db.session.add(row)
    row.kind = kind
    row.name = nfc(name.strip())[:255]
    db.session.flush()
    forget_days_off()
    return _info(row)


def remove_day(day_off_id: int, *, agency_id: int | None) -> None:
    row = db.session.get(DayOff, day_off_id)
    if row is None or row.agency_id != agency_id:
        raise NotFoundError("Không tìm thấy ngày nghỉ")
    db.session.delete(row)
    db.session.flush()
    forget_days_off()


def days_of(agency_id: int | None, year: int) -> list[DayOffInfo]:
    scope = DayOff.agency_id.is_(None) if agency_id is None else DayOff.agency_id == agency_id
    rows = db.session.scalars(
        select(DayOff).where(scope, DayOff.day >= dt.date(year, 1, 1), DayOff.day <= dt.date(year, 12, 31))
        .order_by(DayOff.day)
    )
    return [_info(r) for r in rows]
