"""Threads, their participants (with a read marker each), messages and message files."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.extensions import Model

BigId = BigInteger().with_variant(Integer(), "sqlite")


class ExchangeThread(Model):
    __tablename__ = "exchange_thread"
    __table_args__ = (Index("ix_exchange_thread_subject", "agency_id", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    # What it is about, like the workflow's subjects: "incoming"/"outgoing" + document id, or "task" + human_task id.
    subject_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    subject_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    last_message_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)


class ExchangeParticipant(Model):
    __tablename__ = "exchange_participant"
    __table_args__ = (Index("ix_exchange_participant_user", "user_id", "thread_id"),)

    thread_id: Mapped[int] = mapped_column(ForeignKey("exchange_thread.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), primary_key=True)
    # Messages with a larger id are unread for this user.
    last_read_message_id: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    joined_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)


class ExchangeMessage(Model):
    __tablename__ = "exchange_message"
    __table_args__ = (Index("ix_exchange_message_thread", "thread_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("exchange_thread.id", ondelete="CASCADE"), nullable=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)


class ExchangeFile(Model):
    """A file of a message; bytes live in the shared content-addressed storage (as document attachments)."""

    __tablename__ = "exchange_file"
    __table_args__ = (Index("ix_exchange_file_message", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("exchange_message.id", ondelete="CASCADE"),
                                            nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(120), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(255), nullable=False)
