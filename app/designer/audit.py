"""Record and list design changes; each is also announced on the platform's audit signal (app.accounts
keeps the general log), while this table keeps the before/after that the designer's history shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app.core import clock, signals
from app.extensions import db

from .models import DesignChange

AREA_LABELS = {"diagram": "Quy trình", "form": "Biểu mẫu", "department": "Phòng ban", "position": "Chức vụ"}
ACTION_LABELS = {
    "save_draft": "Lưu bản nháp",
    "publish": "Ban hành",
    "rollback": "Khôi phục phiên bản cũ",
    "adopt_template": "Áp dụng quy trình mẫu",
    "import": "Nhập từ tệp",
    "sync": "Nạp từ tệp quy trình có sẵn",
    "create": "Thêm mới",
    "update": "Sửa",
    "delete": "Xóa",
}


@dataclass(frozen=True)
class DesignChangeInfo:
    id: int
    agency_id: int | None
    at: dt.datetime
    actor_id: int | None
    area: str
    action: str
    subject: str
    summary: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def area_label(self) -> str:
        return AREA_LABELS.get(self.area, self.area)

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)


def record_change(
    *,
    agency_id: int | None,
    actor_id: int | None,
    area: str,
    action: str,
    subject: str,
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add the change to the current transaction: it is kept only if the change itself commits."""
    db.session.add(
        DesignChange(agency_id=agency_id, at=clock.now(), actor_id=actor_id, area=area, action=action,
                     subject=subject[:255], summary=summary, before=before, after=after)
    )
    audit = getattr(signals, "audit", None)
    if audit is not None:
        audit.send(
            "designer", kind=f"{area}.{action}", agency_id=agency_id, user_id=actor_id, target_type=area,
            target_id=subject[:64], message=summary or f"{ACTION_LABELS.get(action, action)}: {subject}",
        )


def list_changes(agency_id: int | None, *, area: str | None = None, page: int = 1,
                 per_page: int = 50) -> tuple[list[DesignChangeInfo], int]:
    owner = DesignChange.agency_id.is_(None) if agency_id is None else DesignChange.agency_id == agency_id
    query = select(DesignChange).where(owner)
    if area:
        query = query.where(DesignChange.area == area)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.order_by(DesignChange.at.desc(), DesignChange.id.desc()).offset((page - 1) * per_page).limit(per_page)
    )
    return [
        DesignChangeInfo(r.id, r.agency_id, r.at, r.actor_id, r.area, r.action, r.subject, r.summary, r.before,
                         r.after)
        for r in rows
    ], total
