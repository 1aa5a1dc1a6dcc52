"""Maintenance windows (Art 10.1): announced at least 3 days ahead, shown as a banner, e-mailed to every
active official once per window."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from sqlalchemy import select

from app.core import clock
from app.core.errors import NotFoundError, ServiceUnavailableError, ValidationError
from app.extensions import db
from app.tenancy.models import Agency, Staff

from .audit import record_event
from .errors import MaintenanceTooSoonError
from .models import MaintenanceWindow

log = logging.getLogger(__name__)

NOTICE_DAYS = 3  # Art 10.1 of Decision 52/2014/QĐ-UBND


@dataclass(frozen=True)
class MaintenanceInfo:
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    title: str
    message: str
    notified_at: dt.datetime | None
    notified_count: int
    cancelled: bool


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    mail_from: str = "qlvb@vinhphuc.gov.vn"
    timeout: float = 30.0


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _info(row: MaintenanceWindow) -> MaintenanceInfo:
    return MaintenanceInfo(row.id, _aware(row.starts_at), _aware(row.ends_at), row.title, row.message,
                           _aware(row.notified_at) if row.notified_at else None, row.notified_count,
                           row.cancelled_at is not None)


def _local(value: dt.datetime) -> str:
    return value.astimezone(clock.VN_TZ).strftime("%H:%M ngày %d/%m/%Y")


def schedule_maintenance(*, starts_at: dt.datetime, ends_at: dt.datetime, title: str, message: str = "",
                         by_user_id: int | None, now: dt.datetime | None = None) -> MaintenanceInfo:
    now = now or clock.now()
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationError("Thời điểm bảo trì phải có múi giờ.")
    if not title.strip():
        raise ValidationError("Cần nhập tiêu đề thông báo bảo trì.",
                              field_errors={"title": ["Trường này là bắt buộc."]})
    if ends_at <= starts_at:
        raise ValidationError("Thời điểm kết thúc phải sau thời điểm bắt đầu.",
                              field_errors={"ends_at": ["Phải sau thời điểm bắt đầu."]})
    earliest = now + dt.timedelta(days=NOTICE_DAYS)
    if starts_at < earliest:
        raise MaintenanceTooSoonError(
            f"Không thể lên lịch bảo trì bắt đầu lúc {_local(starts_at)}: theo khoản 1 Điều 10 Quy chế ban hành "
            f"kèm theo Quyết định 52/2014/QĐ-UBND, người sử dụng phải được thông báo trước ít nhất {NOTICE_DAYS} "
            f"ngày. Thời điểm bắt đầu sớm nhất là {_local(earliest)}.")
    row = MaintenanceWindow(starts_at=starts_at, ends_at=ends_at, title=title.strip(), message=message.strip(),
                            created_by_id=by_user_id, created_at=now, notified_count=0)
    db.session.add(row)
    db.session.flush()
    record_event("maintenance_scheduled", target_type="maintenance", target_id=row.id, message=row.title,
                 detail={"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()})
    return _info(row)


def cancel_maintenance(window_id: int, *, now: dt.datetime | None = None) -> MaintenanceInfo:
    row = db.session.get(MaintenanceWindow, window_id)
    if row is None:
        raise NotFoundError("Không tìm thấy lịch bảo trì.")
    if row.cancelled_at is None:
        row.cancelled_at = now or clock.now()
        record_event("maintenance_cancelled", target_type="maintenance", target_id=row.id, message=row.title)
    db.session.flush()
    return _info(row)


def upcoming_windows(now: dt.datetime | None = None) -> list[MaintenanceInfo]:
    """Windows not cancelled and not yet over, soonest first: the banner shows these."""
    now = now or clock.now()
    rows = db.session.scalars(select(MaintenanceWindow).where(MaintenanceWindow.cancelled_at.is_(None),
                                                              MaintenanceWindow.ends_at > now)
                              .order_by(MaintenanceWindow.starts_at))
    return [_info(r) for r in rows]


def all_windows(limit: int = 100) -> list[MaintenanceInfo]:
    rows = db.session.scalars(select(MaintenanceWindow).order_by(MaintenanceWindow.starts_at.desc()).limit(limit))
    return [_info(r) for r in rows]


def _recipients() -> list[tuple[str, str]]:
    rows = db.session.execute(select(Staff.full_name, Staff.email).join(Agency, Agency.id == Staff.agency_id)
                              .where(Staff.active.is_(True), Agency.active.is_(True)).order_by(Staff.id))
    seen: set[str] = set()
    out = []
    for name, email in rows:
        if email and email not in seen:
            seen.add(email)
            out.append((name, email))
    return out


def _compose(window: MaintenanceWindow, to: tuple[str, str], smtp: SmtpSettings) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"[QLVB] Thông báo bảo trì hệ thống: {window.title}"
    msg["From"] = formataddr(("Phần mềm QLVB tỉnh Vĩnh Phúc", smtp.mail_from))
    msg["To"] = formataddr(to)
    msg["Message-ID"] = make_msgid(domain=smtp.mail_from.split("@")[-1])
    body = (f"Kính gửi {to[0]},\n\n"
            f"Sở Thông tin và Truyền thông thông báo phần mềm quản lý văn bản và điều hành sẽ tạm ngừng để bảo trì "
            f"từ {_local(_aware(window.starts_at))} đến {_local(_aware(window.ends_at))}.\n\n"
            f"{window.message}\n\n"
            "Đề nghị đồng chí chủ động sắp xếp công việc. Trong thời gian bảo trì, văn bản đến được đăng ký bổ sung "
            "sau khi hệ thống hoạt động trở lại.\n\nTrân trọng.\n")
    msg.set_content(body.replace("\n\n\n", "\n\n"))
    return msg


def send_maintenance_notices(now: dt.datetime, smtp: SmtpSettings) -> int:
    """E-mail every active official about each upcoming window not yet announced; once per window.
    Returns how many messages were sent. The caller commits (the window is marked as announced)."""
    if not smtp.host:
        raise ServiceUnavailableError("Chưa cấu hình máy chủ thư điện tử (QLVB_SMTP_HOST); chưa gửi được thông báo.")
    rows = list(db.session.scalars(
        select(MaintenanceWindow).where(MaintenanceWindow.cancelled_at.is_(None),
                                        MaintenanceWindow.notified_at.is_(None), MaintenanceWindow.starts_at > now)
        .order_by(MaintenanceWindow.starts_at).with_for_update(skip_locked=True)))
    if not rows:
        return 0
    recipients = _recipients()
    sent = 0
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as conn:
        for window in rows:
            for to in recipients:
                conn.send_message(_compose(window, to, smtp))
                sent += 1
            window.notified_at = now
            window.notified_count = len(recipients)
            log.info("maintenance %s announced to %d officials", window.id, len(recipients))
    db.session.flush()
    return sent


def late_windows(now: dt.datetime) -> Sequence[MaintenanceInfo]:
    """Windows starting within the notice period that were never announced (an operator must know)."""
    limit = now + dt.timedelta(days=NOTICE_DAYS)
    rows = db.session.scalars(select(MaintenanceWindow).where(
        MaintenanceWindow.cancelled_at.is_(None), MaintenanceWindow.notified_at.is_(None),
        MaintenanceWindow.starts_at <= limit, MaintenanceWindow.ends_at > now))
    return [_info(r) for r in rows]
