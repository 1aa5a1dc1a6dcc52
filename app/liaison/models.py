"""The outbox, the inbox and the hub's held messages (migration 20261203_0600_exchange_outbox)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.extensions import Model

# What a message is: a document package, a recall of one (the sender's own message), or a status message.
KINDS = ("package", "recall", "status")


class OutboxMessage(Model):
    """One message to one recipient system, written in the transaction that decided to send it."""

    __tablename__ = "exchange_outbox"
    __table_args__ = (
        UniqueConstraint("kind", "document_id", "recipient_org", "code", name="uq_exchange_outbox_message"),
        Index("ix_exchange_outbox_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    document_id: Mapped[str] = mapped_column(String(160), nullable=False)  # the edXML DocumentId
    sender_org: Mapped[str] = mapped_column(String(32), nullable=False)
    recipient_org: Mapped[str] = mapped_column(String(32), nullable=False)
    code: Mapped[str] = mapped_column(String(8), nullable=False, default="")  # status code; "" for packages
    payload: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    # pending -> sent; refused when the other side said no for good (a 4xx of the axis)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                         default=clock.now)
    last_error: Mapped[str | None] = mapped_column(Text)
    route: Mapped[str | None] = mapped_column(String(16))  # local | hub | http: how it left
    remote_id: Mapped[str | None] = mapped_column(String(64))  # the axis's id of the message, if it gave one
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=clock.now)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class InboxMessage(Model):
    """One message received for one of our agencies, accepted or refused; the key makes replays harmless."""

    __tablename__ = "exchange_inbox"
    __table_args__ = (
        UniqueConstraint("kind", "document_id", "sender_org", "recipient_org", "code",
                         name="uq_exchange_inbox_message"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    document_id: Mapped[str] = mapped_column(String(160), nullable=False)
    sender_org: Mapped[str] = mapped_column(String(32), nullable=False)
    recipient_org: Mapped[str] = mapped_column(String(32), nullable=False)
    code: Mapped[str] = mapped_column(String(8), nullable=False, default="")
    result: Mapped[str] = mapped_column(String(16), nullable=False)  # accepted | rejected
    via: Mapped[str] = mapped_column(String(16), nullable=False)  # local | hub | http
    local_document_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=clock.now)


class HubMessage(Model):
    """A message the hub holds for a connected system until that system polls and acknowledges it."""

    __tablename__ = "axis_hub_message"
    __table_args__ = (
        UniqueConstraint("kind", "document_id", "sender_org", "recipient_org", "code", name="uq_axis_hub_message"),
        Index("ix_axis_hub_message_waiting", "system_code", "acked_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system_code: Mapped[str] = mapped_column(String(64), nullable=False)  # who may poll it
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    document_id: Mapped[str] = mapped_column(String(160), nullable=False)
    sender_org: Mapped[str] = mapped_column(String(32), nullable=False)
    recipient_org: Mapped[str] = mapped_column(String(32), nullable=False)
    code: Mapped[str] = mapped_column(String(8), nullable=False, default="")
    payload: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    from_system: Mapped[str] = mapped_column(String(64), nullable=False)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=clock.now)
    acked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ExternalOrgan(Model):
    """An organisation outside this deployment that documents can be sent to over the axis: the directory of mã
    định danh (QĐ 20/2020/QĐ-TTg) that SoICT imports from the list the national axis publishes."""

    __tablename__ = "external_organ"
    __table_args__ = (UniqueConstraint("organ_id", name="uq_external_organ_organ_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organ_id: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(500), nullable=False)
    parent_name: Mapped[str | None] = mapped_column(String(500))  # cơ quan chủ quản, as the list gives it
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=clock.now,
                                                    onupdate=clock.now)

    def __repr__(self) -> str:  # what FAB shows in lists and relations
        return f"{self.name} ({self.organ_id})"
