"""E-mail through an outbox: rows are written with the event, a job sends them and marks them sent.

Whether mail goes out is decided where it is sent, never where the event was written: every node queues a
message for each recipient with an address, and the delivery job (Celery worker, or the embedded scheduler)
sends it, leaves it queued when *its* node has no SMTP server configured (logging that), or cancels it when
mail is switched off for the province (``QLVB_MAIL_ENABLED=0`` on the workers).

A crash before SMTP accepts a message leaves it pending (sent on the next run); a crash after SMTP
accepted it but before the row is marked sends it once more with the same Message-ID (servers and
clients drop such a copy). Failures are retried with exponential backoff, then given up on.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from flask import current_app
from sqlalchemy import select, update

from app.core import clock
from app.core.text import nfc
from app.extensions import db
from app.tenancy.models import Agency, Staff

from .models import EmailOutbox

log = logging.getLogger("qlvb.mail")

MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(minutes=1)
LONGEST_RETRY = dt.timedelta(hours=6)
SMTP_TIMEOUT = 20


UNCONFIGURED_LOG_EVERY = dt.timedelta(minutes=15)
_last_unconfigured_log: dict[str, dt.datetime] = {}


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    sender: str
    province_enabled: bool = True

    @property
    def enabled(self) -> bool:
        """This node can send: mail is on for the province and an SMTP server is configured here."""
        return self.province_enabled and bool(self.host)


def settings() -> MailSettings:
    cfg = current_app.config
    return MailSettings(str(cfg.get("QLVB_SMTP_HOST") or ""), int(cfg.get("QLVB_SMTP_PORT") or 25),
                        str(cfg.get("QLVB_MAIL_FROM") or "qlvb@localhost"), bool(cfg.get("QLVB_MAIL_ENABLED", True)))


def enqueue(to_addr: str, subject: str, body: str, *, agency_id: int | None, urgent: bool = False) -> None:
    db.session.add(EmailOutbox(
        agency_id=agency_id, to_addr=to_addr, subject=nfc(subject)[:255], body=nfc(body), urgent=urgent,
        message_id=f"<{uuid.uuid4().hex}@qlvb>", status="pending", attempts=0, next_attempt_at=clock.now(),
        created_at=clock.now(),
    ))


def enqueue_for_users(user_ids: Iterable[int], *, agency_id: int, subject: str, body: str, link: str | None,
                      urgent: bool) -> int:
    """Queue one message per active official with an address, whatever this node's SMTP settings are."""
    ids = list(user_ids)
    if not ids:
        return 0
    rows = db.session.execute(
        select(Staff.email).where(Staff.user_id.in_(ids), Staff.active.is_(True), Staff.email != "")
    ).all()
    domain = db.session.scalar(select(Agency.domain).where(Agency.id == agency_id))
    text = body
    if link and domain:
        text = f"{body}\n\nXem chi tiết: https://{domain}{link}" if body else f"Xem chi tiết: https://{domain}{link}"
    prefix = "[KHẨN] " if urgent else ""
    for (address,) in rows:
        enqueue(address, prefix + subject, text + "\n\n-- \nHệ thống quản lý văn bản và điều hành tỉnh Vĩnh Phúc",
                agency_id=agency_id, urgent=urgent)
    return len(rows)


def due_email_ids(now: dt.datetime | None = None, *, limit: int = 100) -> list[int]:
    """Pending messages whose time has come, urgent ones first."""
    at = now or clock.now()
    return list(db.session.scalars(
        select(EmailOutbox.id)
        .where(EmailOutbox.status == "pending", EmailOutbox.next_attempt_at <= at)
        .order_by(EmailOutbox.urgent.desc(), EmailOutbox.id)
        .limit(limit)
    ))


def cancel_due(reason: str, now: dt.datetime | None = None) -> int:
    """Mail is off for the province: mark due messages cancelled (kept for the record, never sent later)."""
    at = now or clock.now()
    result = db.session.execute(
        update(EmailOutbox)
        .where(EmailOutbox.status == "pending", EmailOutbox.next_attempt_at <= at)
        .values(status="cancelled", last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def deliverable_ids(now: dt.datetime | None = None) -> list[int]:
    """What the delivery job should send now, after applying this node's decision (the caller commits)."""
    cfg = settings()
    if not cfg.province_enabled:
        cancelled = cancel_due("Thư điện tử đang tắt toàn tỉnh (QLVB_MAIL_ENABLED=0)", now)
        if cancelled:
            log.info("mail is switched off for the province (QLVB_MAIL_ENABLED=0): %s queued e-mails cancelled",
                     cancelled)
        return []
    ids = due_email_ids(now)
    if not cfg.host:
        if ids:
            _log_unconfigured(len(ids))
        return []
    return ids


def _log_unconfigured(count: int) -> None:
    now = clock.now()
    last = _last_unconfigured_log.get("smtp")
    if last is not None and now - last < UNCONFIGURED_LOG_EVERY:
        return
    _last_unconfigured_log["smtp"] = now
    log.warning("%s e-mail(s) waiting in the outbox: QLVB_SMTP_HOST is not configured on the node running the "
                "delivery job; they stay queued until one that has it runs", count)


def _message(row: EmailOutbox, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = row.subject
    msg["From"] = sender
    msg["To"] = row.to_addr
    msg["Message-ID"] = row.message_id
    msg["Date"] = formatdate(localtime=False)
    if row.urgent:
        msg["Importance"] = "high"
        msg["X-Priority"] = "1"
    msg.set_content(row.body, charset="utf-8")
    return msg


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4 … minutes after each failure, never more than six hours."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def deliver_one(outbox_id: int, *, now: dt.datetime | None = None) -> str:
    """Send one pending message; return sent | retry | failed | skipped. The caller commits right after."""
    cfg = settings()
    if not cfg.enabled:
        return "skipped"
    at = now or clock.now()
    row = db.session.execute(
        select(EmailOutbox).where(EmailOutbox.id == outbox_id)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None or row.status != "pending" or row.next_attempt_at > at:
        return "skipped"
    try:
        with smtplib.SMTP(cfg.host, cfg.port, timeout=SMTP_TIMEOUT) as smtp:
            smtp.send_message(_message(row, cfg.sender))
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        row.attempts += 1
        row.status, row.last_error = "failed", str(exc)[:2000]
        log.warning("e-mail %s refused permanently: %s", row.id, exc)
        return "failed"
    except (smtplib.SMTPException, OSError) as exc:
        row.attempts += 1
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
            log.error("e-mail %s given up after %s attempts: %s", row.id, row.attempts, exc)
            return "failed"
        row.next_attempt_at = at + backoff(row.attempts)
        log.info("e-mail %s attempt %s failed (%s); next at %s", row.id, row.attempts, exc, row.next_attempt_at)
        return "retry"
    row.attempts += 1
    row.status, row.sent_at, row.last_error = "sent", clock.now(), None
    return "sent"
