"""Reading notifications (the list page and the navbar badge)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db

from .models import Notification
from .services import NotificationInfo, info

MAX_PAGE = 200


def unread_count(user_id: int, agency_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Notification).where(
            Notification.user_id == user_id, Notification.agency_id == agency_id, Notification.read_at.is_(None)
        )
    ) or 0


def notifications_for(user_id: int, agency_id: int, *, unread_only: bool = False, limit: int = 50,
                      offset: int = 0) -> list[NotificationInfo]:
    query = select(Notification).where(Notification.user_id == user_id, Notification.agency_id == agency_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.id.desc()).limit(max(1, min(limit, MAX_PAGE))).offset(max(0, offset))
    return [info(row) for row in db.session.scalars(query)]
