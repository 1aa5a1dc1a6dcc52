"""Making and reading-off notifications. They flush but never commit: the request or job commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from app.core import clock
from app.core.errors import NotFoundError
from app.core.text import nfc
from app.extensions import db

from . import mail
from .models import Notification

# What each kind is called on the list page.
KIND_LABELS = {
    "task_new": "Công việc mới",
    "task_returned": "Bị trả lại",
    "due_soon": "Sắp đến hạn",
    "overdue": "Quá hạn",
    "exchange_reply": "Trao đổi",
    "calendar": "Lịch công tác",
    "mail_refused": "Thư điện tử không nhận được",
}
URGENT_LEVELS = {"khan": "Khẩn", "thuong_khan": "Thượng khẩn", "hoa_toc": "Hỏa tốc"}


@dataclass(frozen=True)
class NotificationInfo:
    id: int
    agency_id: int
    user_id: int
    kind: str
    title: str
    body: str
    link: str | None
    urgent: bool
    created_at: dt.datetime
    read_at: dt.datetime | None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


def info(row: Notification) -> NotificationInfo:
    return NotificationInfo(row.id, row.agency_id, row.user_id, row.kind, row.title, row.body, row.link,
                            row.urgent, row.created_at, row.read_at)


def notify(
    user_ids: Iterable[int],
    *,
    agency_id: int,
    kind: str,
    title: str,
    body: str = "",
    link: str | None = None,
    urgent: bool = False,
    dedupe_key: str | None = None,
    exclude_user_id: int | None = None,
) -> int:
    """Notify each user once (in-app, and by e-mail when SMTP is configured); return how many were made.

    With ``dedupe_key`` a user who already has that notification gets no second one.
    """
    wanted = sorted({u for u in user_ids if u is not None and u != exclude_user_id})
    if not wanted:
        return 0
    if dedupe_key is not None:
        done = set(db.session.scalars(
            select(Notification.user_id).where(Notification.user_id.in_(wanted), Notification.dedupe_key == dedupe_key)
        ))
        wanted = [u for u in wanted if u not in done]
    title, body = nfc(title)[:255], nfc(body)
    now = clock.now()
    if wanted:  # one bulk INSERT (no RETURNING): a workflow step's notices cost one statement
        db.session.execute(insert(Notification), [
            {"agency_id": agency_id, "user_id": user_id, "kind": kind, "title": title, "body": body, "link": link,
             "urgent": urgent, "dedupe_key": dedupe_key, "created_at": now, "read_at": None}
            for user_id in wanted])
    mail.enqueue_for_users(wanted, agency_id=agency_id, subject=title, body=body, link=link, urgent=urgent)
    return len(wanted)


def mark_read(notification_id: int, user_id: int) -> NotificationInfo:
    row = db.session.get(Notification, notification_id)
    if row is None or row.user_id != user_id:
        raise NotFoundError("Không tìm thấy thông báo")
    if row.read_at is None:
        row.read_at = clock.now()
        db.session.flush()
    return info(row)


def mark_all_read(user_id: int, agency_id: int) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.agency_id == agency_id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def mark_read_for_links(user_id: int, agency_id: int, links: Iterable[str]) -> int:
    """Mark read the user's notifications pointing at these pages (e.g. the tasks they marked read)."""
    wanted = sorted(set(links))
    if not wanted:
        return 0
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.agency_id == agency_id, Notification.read_at.is_(None),
               Notification.link.in_(wanted))
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
