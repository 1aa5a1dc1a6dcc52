"""Read-only views of the outbox and inbox: per agency (by its mã định danh) for the API's exchange lists, and per
document for the sender's document page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.tenancy.models import Agency

from .models import InboxMessage, OutboxMessage
from .organs import organ_id_of

MAX_PAGE = 200


@dataclass(frozen=True)
class OutboxItemInfo:
    id: int
    kind: str
    document_id: str
    recipient_org: str
    code: str
    state: str
    attempts: int
    size: int
    route: str | None
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    next_attempt_at: dt.datetime


@dataclass(frozen=True)
class InboxItemInfo:
    id: int
    kind: str
    document_id: str
    sender_org: str
    code: str
    result: str
    via: str
    local_document_id: int | None
    detail: str | None
    received_at: dt.datetime


def organ_id_for(agency_id: int) -> str | None:
    agency = db.session.get(Agency, agency_id)
    return organ_id_of(agency) if agency is not None else None


def _bounds(limit: int, offset: int) -> tuple[int, int]:
    return max(1, min(int(limit), MAX_PAGE)), max(0, int(offset))


def outbox_of(agency_id: int, *, state: str | None = None, limit: int = 50,
              offset: int = 0) -> tuple[list[OutboxItemInfo], int]:
    """What the agency has sent or is sending, newest first."""
    org = organ_id_for(agency_id)
    if org is None:
        return [], 0
    limit, offset = _bounds(limit, offset)
    base = select(OutboxMessage).where(OutboxMessage.sender_org == org)
    if state is not None:
        base = base.where(OutboxMessage.state == state)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = db.session.scalars(base.order_by(OutboxMessage.id.desc()).limit(limit).offset(offset))
    return [OutboxItemInfo(id=r.id, kind=r.kind, document_id=r.document_id, recipient_org=r.recipient_org,
                           code=r.code, state=r.state, attempts=r.attempts, size=r.size, route=r.route,
                           last_error=r.last_error, created_at=r.created_at, sent_at=r.sent_at,
                           next_attempt_at=r.next_attempt_at) for r in rows], int(total)


def inbox_of(agency_id: int, *, result: str | None = None, limit: int = 50,
             offset: int = 0) -> tuple[list[InboxItemInfo], int]:
    """What the agency has received (accepted or refused), newest first."""
    org = organ_id_for(agency_id)
    if org is None:
        return [], 0
    limit, offset = _bounds(limit, offset)
    base = select(InboxMessage).where(InboxMessage.recipient_org == org)
    if result is not None:
        base = base.where(InboxMessage.result == result)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = db.session.scalars(base.order_by(InboxMessage.id.desc()).limit(limit).offset(offset))
    return [InboxItemInfo(id=r.id, kind=r.kind, document_id=r.document_id, sender_org=r.sender_org, code=r.code,
                          result=r.result, via=r.via, local_document_id=r.local_document_id, detail=r.detail,
                          received_at=r.received_at) for r in rows], int(total)


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
