"""The outbox and the inbox. Functions flush, never commit: the caller's request or job commits.

Sending: ``enqueue`` writes the message in the caller's transaction; an in-deployment recipient gets it at once
(inside a savepoint, so a failure only leaves the row pending), everything else waits for the job
``interchange.send_outbox`` (``claim`` / ``transmit`` / ``settle``), with exponential backoff until the other
side has it.

Receiving: ``receive`` parses what arrived (app.interchange), refuses a broken package with a status 02 to its
sender, and hands a good one to the handler that the documents domain registered for its kind, once per
(kind, DocumentId, sender, recipient, status code): a replay is acknowledged and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.axis import AxisRefusedError, SendResult
from app.core import clock
from app.core.errors import DomainError
from app.extensions import db
from app.interchange import (
    BusinessDocType,
    EnvelopeError,
    OrganInfo,
    build_status,
    parse_envelope,
    parse_status,
    rejection_status,
    salvage_response_for,
)

from . import settings
from .errors import NoRouteError
from .models import InboxMessage, OutboxMessage
from .organs import is_organ_id, local_agency

log = logging.getLogger("qlvb.liaison")

# kind -> fn(info, agency_id) -> local document id | None   ("package", "recall");  "status": fn(info) -> None
# "undeliverable": fn(kind, document_id, recipient_org, message) when the axis refused a message for good.
_HANDLERS: dict[str, Callable[..., Any]] = {}
_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(edXMLEnvelope|edXML)[\s/>]")


def register_handler(kind: str, fn: Callable[..., Any]) -> None:
    _HANDLERS[kind] = fn


@dataclass(frozen=True)
class ReceiveResult:
    kind: str  # package | recall | status | unknown
    accepted: bool
    duplicate: bool = False
    message: str = ""
    local_document_id: int | None = None
    document_id: str = ""


# ------------------------------------------------------------------------------------------------ outbox


def enqueue(kind: str, payload: bytes, *, document_id: str, sender_org: str, recipient_org: str,
            code: str = "") -> OutboxMessage:
    """Queue one message to one recipient; the same (kind, DocumentId, recipient, code) twice is one message."""
    key = (OutboxMessage.kind == kind, OutboxMessage.document_id == document_id,
           OutboxMessage.recipient_org == recipient_org, OutboxMessage.code == code)
    existing = db.session.scalar(select(OutboxMessage).where(*key))
    if existing is not None:
        return existing
    row = OutboxMessage(kind=kind, document_id=document_id, sender_org=sender_org, recipient_org=recipient_org,
                        code=code, payload=payload, size=len(payload), state="pending", attempts=0,
                        next_attempt_at=clock.now(), created_at=clock.now())
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # another transaction queued the same message first
        existing = db.session.scalar(select(OutboxMessage).where(*key))
        if existing is None:
            raise
        return existing
    if settings.inline_local():
        from .connectors import hub_system_for

        # Both stay in this database (our own agency, or held by our hub): no reason to wait for the job.
        if local_agency(recipient_org) is not None or hub_system_for(recipient_org) is not None:
            _attempt(row)
    return row


def due_ids(limit: int = 200) -> list[int]:
    return list(db.session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= clock.now())
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)))


@dataclass(frozen=True)
class Transmission:
    """A message leased for sending over the network, outside any database transaction."""

    outbox_id: int
    kind: str
    document_id: str
    sender_org: str
    recipient_org: str
    code: str
    payload: bytes = field(repr=False)


def claim(outbox_id: int) -> Transmission | str:
    """Take one due message. One that stays in this database (our agency, our hub) is sent right here; one for
    an external axis is leased (no other worker takes it meanwhile) and returned: ``transmit`` sends it with no
    transaction open, ``settle`` records the outcome. Otherwise returns the state (or "skipped": not due)."""
    row = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.id == outbox_id).with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)).scalar_one_or_none()
    if row is None or row.state != "pending" or row.next_attempt_at > clock.now():
        return "skipped"
    from .connectors import route_for

    try:
        connector = route_for(row.recipient_org)
    except Exception as error:  # no route yet: kept, tried again later
        _record(row, "", error)
        return row.state
    if connector.name != "http":
        _attempt(row)
        return row.state
    row.next_attempt_at = clock.now() + dt.timedelta(seconds=2 * settings.axis_timeout() + 30)
    db.session.flush()
    return Transmission(outbox_id=row.id, kind=row.kind, document_id=row.document_id, sender_org=row.sender_org,
                        recipient_org=row.recipient_org, code=row.code, payload=row.payload)


def transmit(item: Transmission) -> SendResult | Exception:
    """The network part alone: the outcome, never raised."""
    from .connectors import external_connector

    connector = external_connector()
    if connector is None:
        return NoRouteError("Chưa cấu hình trục liên thông (QLVB_AXIS_URL)", log="QLVB_AXIS_URL was emptied")
    try:
        return connector.send(item.payload, kind=item.kind, document_id=item.document_id,
                              sender_org=item.sender_org, recipient_org=item.recipient_org, code=item.code)
    except Exception as error:  # recorded by settle(): the message is retried or marked refused
        return error


def settle(outbox_id: int, outcome: SendResult | Exception) -> str:
    row = db.session.execute(select(OutboxMessage).where(OutboxMessage.id == outbox_id).with_for_update()
                             .execution_options(populate_existing=True)).scalar_one_or_none()
    if row is None:
        return "skipped"
    if row.state == "pending":
        _record(row, "http", outcome)
    return row.state


def _attempt(row: OutboxMessage) -> None:
    """Send through a connector that stays in this database, inside a savepoint."""
    from .connectors import route_for

    try:
        with db.session.begin_nested():
            connector = route_for(row.recipient_org)
            outcome: SendResult | Exception = connector.send(
                row.payload, kind=row.kind, document_id=row.document_id, sender_org=row.sender_org,
                recipient_org=row.recipient_org, code=row.code)
            name = connector.name
    except Exception as error:  # any failure leaves the message queued for the next try, never lost
        outcome, name = error, ""
    _record(row, name, outcome)


def _record(row: OutboxMessage, route: str, outcome: SendResult | Exception) -> None:
    if isinstance(outcome, AxisRefusedError):
        row.state, row.last_error, row.attempts = "refused", outcome.message[:2000], row.attempts + 1
        log.warning("outbox %s (%s %s -> %s) refused for good: %s", row.id, row.kind, row.document_id,
                    row.recipient_org, outcome.log)
        handler = _HANDLERS.get("undeliverable")
        if handler is not None:
            handler(row.kind, row.document_id, row.recipient_org, outcome.message)
    elif isinstance(outcome, Exception):
        row.attempts += 1
        delay = min(settings.retry_base_seconds() * 2 ** (row.attempts - 1), settings.retry_max_seconds())
        row.next_attempt_at = clock.now() + dt.timedelta(seconds=delay)
        text = getattr(outcome, "log", None) or f"{type(outcome).__name__}: {outcome}"
        row.last_error = str(text)[:2000]
        log.warning("outbox %s (%s %s -> %s) attempt %s failed, next in %.0f s: %s", row.id, row.kind,
                    row.document_id, row.recipient_org, row.attempts, delay, text)
    else:
        row.state, row.sent_at, row.attempts = "sent", clock.now(), row.attempts + 1
        row.route = route
        row.remote_id = ",".join(outcome.remote_ids)[:64] or None
        row.last_error = None
    db.session.flush()


# ------------------------------------------------------------------------------------------------- inbox


def message_kind(payload: bytes) -> str | None:
    """"package" or "status" from the root element, without parsing (parse_* then hold it to the schema)."""
    match = _ROOT.search(payload[:4096])
    if match is None:
        return None
    return "status" if match.group(1) == b"edXMLEnvelope" else "package"


def receive(payload: bytes, *, recipient_org: str, via: str) -> ReceiveResult:
    """Take in one message addressed to ``recipient_org`` (one of our agencies, or our hub's caller)."""
    kind = message_kind(payload)
    if kind == "status":
        return _receive_status(payload, recipient_org=recipient_org, via=via)
    return _receive_package(payload, recipient_org=recipient_org, via=via)


def _inbox_row(kind: str, document_id: str, sender_org: str, recipient_org: str, code: str) -> InboxMessage | None:
    return db.session.scalar(select(InboxMessage).where(
        InboxMessage.kind == kind, InboxMessage.document_id == document_id, InboxMessage.sender_org == sender_org,
        InboxMessage.recipient_org == recipient_org, InboxMessage.code == code))


def _receive_package(payload: bytes, *, recipient_org: str, via: str) -> ReceiveResult:
    agency = local_agency(recipient_org)
    try:
        if agency is None:
            raise EnvelopeError(f"không có cơ quan nhận mang mã định danh {recipient_org} trong hệ thống này",
                                field="MessageHeader/To")
        info = parse_envelope(payload, recipient=recipient_org)
    except EnvelopeError as error:
        log.warning("package for %s via %s refused: %s", recipient_org, via, error.log)
        _reject(error, payload, recipient_org)
        return ReceiveResult("package", accepted=False, message=error.message)
    header = info.header
    kind = "recall" if info.trace.business.doc_type == BusinessDocType.RECALL else "package"
    sender = header.sender.organ_id
    existing = _inbox_row(kind, header.document_id, sender, recipient_org, "")
    if existing is not None and existing.result == "accepted":
        log.info("package %s from %s to %s received again via %s: acknowledged, nothing created",
                 header.document_id, sender, recipient_org, via)
        return ReceiveResult(kind, accepted=True, duplicate=True, local_document_id=existing.local_document_id,
                             document_id=header.document_id)
    handler = _HANDLERS[kind]
    try:
        with db.session.begin_nested():
            local_id = handler(info, agency.id)
            row = existing or InboxMessage(kind=kind, document_id=header.document_id, sender_org=sender,
                                           recipient_org=recipient_org, code="")
            row.result, row.via, row.local_document_id, row.detail = "accepted", via, local_id, None
            row.received_at = clock.now()
            db.session.add(row)
    except DomainError as error:  # the domain's refusal (an excluded kind, a file the rules refuse, …)
        log.warning("package %s from %s to %s refused: %s", header.document_id, sender, recipient_org, error.log)
        envelope_error = EnvelopeError(error.message.rstrip("."))
        _reject(envelope_error, payload, recipient_org)
        row = existing or InboxMessage(kind=kind, document_id=header.document_id, sender_org=sender,
                                       recipient_org=recipient_org, code="")
        row.result, row.via, row.detail, row.received_at = "rejected", via, error.message[:2000], clock.now()
        db.session.add(row)
        db.session.flush()
        return ReceiveResult(kind, accepted=False, message=error.message, document_id=header.document_id)
    return ReceiveResult(kind, accepted=True, local_document_id=local_id, document_id=header.document_id)


def _receive_status(payload: bytes, *, recipient_org: str, via: str) -> ReceiveResult:
    try:
        info = parse_status(payload, recipient=recipient_org if is_organ_id(recipient_org) else None)
    except EnvelopeError as error:  # a status is never answered with a status: the admin reads the log
        log.warning("status message for %s via %s refused: %s", recipient_org, via, error.log)
        return ReceiveResult("status", accepted=False, message=error.message)
    document_id = info.response_for.document_id or "?"
    sender, code = info.sender.organ_id, info.code.value
    if _inbox_row("status", document_id, sender, recipient_org, code) is not None:
        log.info("status %s of %s from %s received again: ignored", code, document_id, sender)
        return ReceiveResult("status", accepted=True, duplicate=True, document_id=document_id)
    with db.session.begin_nested():
        _HANDLERS["status"](info)
        db.session.add(InboxMessage(kind="status", document_id=document_id, sender_org=sender,
                                    recipient_org=recipient_org, code=code, result="accepted", via=via,
                                    received_at=clock.now(),
                                    detail=(info.description or None) and info.description[:2000]))
    return ReceiveResult("status", accepted=True, document_id=document_id)


def _reject(error: EnvelopeError, payload: bytes, recipient_org: str) -> None:
    """Queue the status 02 answer to a refused package, when its sender can be read from it."""
    if not is_organ_id(recipient_org):
        response = salvage_response_for(payload)
        log.warning("refused package from %s: no mã định danh of ours to answer with",
                    response.organ_id if response is not None else "?")
        return
    agency = local_agency(recipient_org)
    receiver = OrganInfo(organ_id=recipient_org, organ_name=agency.name if agency is not None else "")
    status = rejection_status(error, payload, receiver=receiver, at=clock.now())
    if status is None:
        log.warning("refused package names no sender that can be answered: %s", error.log)
        return
    document_id = status.response_for.document_id or "?" + hashlib.sha256(payload).hexdigest()[:40]
    enqueue("status", build_status(status), document_id=document_id, sender_org=recipient_org,
            recipient_org=status.response_for.organ_id, code="02")


def poll_external(limit: int = 50) -> list[Any]:
    """What the external axis holds for us (no database work: each is received and committed by the caller)."""
    from .connectors import external_connector

    connector = external_connector()
    return connector.poll(limit) if connector is not None else []


def ack_external(message_id: str) -> None:
    from .connectors import external_connector

    connector = external_connector()
    if connector is not None:
        connector.ack(message_id)
