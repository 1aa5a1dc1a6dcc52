"""What the outbox says about a document's messages, for the sender's document page (read-only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.liaison.models import OutboxMessage


@dataclass(frozen=True)
class TransmissionInfo:
    """How the package to one recipient system is travelling: waiting, sent, or refused for good by the axis.
    ``refusal`` is the axis's own words; the technical error of a failed attempt stays in the admin's log."""

    state: str  # pending | sent | refused
    attempts: int
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None
    refusal: str | None


def transmissions_of(document_id: str, kind: str = "package") -> dict[str, TransmissionInfo]:
    """Per recipient mã định danh, the outbox message of that kind for the edXML DocumentId."""
    if not document_id:
        return {}
    rows = db.session.execute(select(
        OutboxMessage.recipient_org, OutboxMessage.state, OutboxMessage.attempts, OutboxMessage.next_attempt_at,
        OutboxMessage.sent_at, OutboxMessage.last_error,
    ).where(OutboxMessage.document_id == document_id, OutboxMessage.kind == kind)).all()
    return {r.recipient_org: TransmissionInfo(
        state=r.state, attempts=int(r.attempts), next_attempt_at=r.next_attempt_at if r.state == "pending" else None,
        sent_at=r.sent_at, refusal=r.last_error if r.state == "refused" else None) for r in rows}
