"""Notifications a user sees in the app, and the e-mail outbox written in the same transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.extensions import Model

BigId = BigInteger().with_variant(Integer(), "sqlite")
JsonType = JSON().with_variant(JSONB(), "postgresql")


class Notification(Model):
    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_user_unread", "user_id", "read_at", "id"),
        # The same reminder is never made twice for one person (jobs may run twice, nodes may race).
        UniqueConstraint("user_id", "dedupe_key", name="uq_notification_dedupe"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    link: Mapped[str | None] = mapped_column(String(255), nullable=True)
    urgent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class EmailOutbox(Model):
    """One message to send. Written with the event; the delivery job marks it sent once SMTP accepted it."""

    __tablename__ = "email_outbox"
    __table_args__ = (Index("ix_email_outbox_due", "status", "next_attempt_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), nullable=True)
    to_addr: Mapped[str] = mapped_column(String(255), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    # Stable Message-ID: if a crash lands between "SMTP accepted" and "marked sent", the one retry
    # carries the same id, so mail servers and clients can drop the copy.
    message_id: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    urgent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")  # pending|sent|failed|cancelled
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class JobMark(Model):
    """How far a periodic scan got (e.g. deadlines reminded up to this instant); its row lock serialises runs."""

    __tablename__ = "job_mark"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class PendingNotice(Model):
    """A step that opened and whose people are still to be told: written by the step's transaction (one INSERT),
    announced by the job ``notifications.announce_pending`` after the commit (app/notifications/pending.py)."""

    __tablename__ = "notification_pending"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # The "send back" that reopened the step, if any: [by user id, comment, step name].
    returned: Mapped[list[Any] | None] = mapped_column(JsonType, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
