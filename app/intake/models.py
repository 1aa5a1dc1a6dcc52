"""Agency mailboxes and every message taken from them (migration 20261204_0400_mail_intake)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import clock
from app.extensions import Model

SECURITY = ("ssl", "starttls", "none")


class Mailbox(Model):
    """One IMAP mailbox of an agency. The password is stored sealed (app.intake.secrets) or named by reference."""

    __tablename__ = "mail_intake_mailbox"
    __table_args__ = (UniqueConstraint("agency_id", "name", name="uq_mail_intake_mailbox_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    host: Mapped[str] = mapped_column(String(255), nullable=False)
    port: Mapped[int] = mapped_column(Integer, nullable=False, default=993)
    security: Mapped[str] = mapped_column(String(16), nullable=False, default="ssl")
    username: Mapped[str] = mapped_column(String(255), nullable=False)
    password_sealed: Mapped[str | None] = mapped_column(Text)  # "v1:<nonce+ciphertext, base64>"
    password_ref: Mapped[str | None] = mapped_column(String(120))  # the name of an environment variable
    folder: Mapped[str] = mapped_column(String(255), nullable=False, default="INBOX")
    processed_folder: Mapped[str] = mapped_column(String(255), nullable=False, default="Đã nhận vào QLVB")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # The worker polling it now, until when (a crashed worker's lease simply runs out).
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_polled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)

    agency = relationship("Agency")

    def __repr__(self) -> str:  # FAB shows related rows by repr
        return self.name


class MailMessage(Model):
    """A message read from a mailbox, accepted (a document awaiting registration) or refused (with the reason).

    The key (Message-ID, else the digest of the message) is unique per agency: a message is never imported twice,
    whichever worker or mailbox reads it."""

    __tablename__ = "mail_intake_message"
    __table_args__ = (UniqueConstraint("agency_id", "message_key", name="uq_mail_intake_message_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mail_intake_mailbox.id", ondelete="SET NULL"),
                                                   index=True)
    message_key: Mapped[str] = mapped_column(String(255), nullable=False)
    sender: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    result: Mapped[str] = mapped_column(String(16), nullable=False)  # accepted | refused
    reason: Mapped[str | None] = mapped_column(Text)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)

    mailbox = relationship("Mailbox")
