"""This deployment as the province's axis (LGSP) for other systems: accept, hold, poll, acknowledge.

A connected system (QLVB_AXIS_HUB_SYSTEMS) posts messages; one addressed to an agency of this deployment is
received at once, one for an agency served by another connected system is held until that system polls and
acknowledges it. Anything else is refused with a Vietnamese message naming the unknown code.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.axis import AxisMessage
from app.core import clock
from app.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.interchange import EnvelopeError, parse_envelope, parse_status

from . import settings
from .connectors import hub_system_for
from .errors import UnknownRecipientError
from .models import HubMessage
from .organs import local_agency
from .services import message_kind, receive

log = logging.getLogger("qlvb.liaison.hub")


@dataclass(frozen=True)
class AcceptedInfo:
    ids: tuple[str, ...]
    duplicate: bool
    local: tuple[str, ...] = ()  # recipients of this deployment that took it in


def authenticate(system_code: str, token: str) -> str:
    """The connected system's code, or PermissionDeniedError (no detail about which part was wrong)."""
    system = settings.hub_systems().get(system_code or "")
    if system is None or not token or not hmac.compare_digest(system.token.encode(), token.encode()):
        log.warning("hub: refused credentials for system %r", system_code)
        raise PermissionDeniedError("Mã hệ thống hoặc khóa truy cập trục liên thông không đúng")
    return system.code


def hold(system_code: str, payload: bytes, *, kind: str, document_id: str, sender_org: str, recipient_org: str,
         code: str, from_system: str) -> tuple[HubMessage, bool]:
    """Keep one message for ``system_code``; the same message twice is held once."""
    key = (HubMessage.kind == kind, HubMessage.document_id == document_id, HubMessage.sender_org == sender_org,
           HubMessage.recipient_org == recipient_org, HubMessage.code == code)
    existing = db.session.scalar(select(HubMessage).where(*key))
    if existing is not None:
        return existing, True
    row = HubMessage(system_code=system_code, kind=kind, document_id=document_id, sender_org=sender_org,
                     recipient_org=recipient_org, code=code, payload=payload, from_system=from_system,
                     received_at=clock.now())
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        existing = db.session.scalar(select(HubMessage).where(*key))
        if existing is None:
            raise
        return existing, True
    return row, False


def accept(system_code: str, payload: bytes) -> AcceptedInfo:
    """A message posted by a connected system: read who it is for, then receive it here or hold it."""
    kind = message_kind(payload)
    try:
        if kind == "status":
            status = parse_status(payload)
            document_id, sender, code = status.response_for.document_id or "?", status.sender.organ_id, status.code
            recipients: tuple[str, ...] = (status.response_for.organ_id,)
            message_kind_ = "status"
            code_text = code.value
        else:
            info = parse_envelope(payload)
            document_id, sender = info.header.document_id, info.header.sender.organ_id
            recipients = tuple(o.organ_id for o in info.header.recipients)
            message_kind_ = "recall" if int(info.trace.business.doc_type) == 1 else "package"
            code_text = ""
    except EnvelopeError as error:
        log.warning("hub: message from system %s refused: %s", system_code, error.log)
        raise
    unknown = [o for o in recipients if local_agency(o) is None and hub_system_for(o) is None]
    if unknown:
        raise UnknownRecipientError(
            f"Trục liên thông không phục vụ cơ quan mang mã định danh {', '.join(unknown)}",
            log=f"hub: {system_code} sent {document_id} to unknown {unknown}")
    ids, local, duplicate = [], [], True
    for organ in recipients:
        if local_agency(organ) is not None:
            result = receive(payload, recipient_org=organ, via="hub")
            local.append(organ)
            duplicate = duplicate and result.duplicate
            if not result.accepted:
                log.info("hub: %s for %s refused by the recipient: %s", document_id, organ, result.message)
            continue
        target = hub_system_for(organ)
        assert target is not None
        row, again = hold(target, payload, kind=message_kind_, document_id=document_id, sender_org=sender,
                          recipient_org=organ, code=code_text, from_system=system_code)
        ids.append(str(row.id))
        duplicate = duplicate and again
    db.session.flush()
    return AcceptedInfo(ids=tuple(ids), duplicate=duplicate, local=tuple(local))


def waiting(system_code: str, limit: int = 50) -> list[AxisMessage]:
    rows = db.session.scalars(select(HubMessage).where(HubMessage.system_code == system_code,
                                                       HubMessage.acked_at.is_(None))
                              .order_by(HubMessage.id).limit(max(1, min(limit, 500))))
    return [AxisMessage(id=str(r.id), kind=r.kind, document_id=r.document_id, sender_org=r.sender_org,
                        recipient_org=r.recipient_org, code=r.code, payload=r.payload) for r in rows]


def _mine(system_code: str, message_id: str) -> HubMessage:
    try:
        row = db.session.get(HubMessage, int(message_id))
    except (TypeError, ValueError):
        raise ValidationError("Mã thông điệp không hợp lệ") from None
    if row is None or row.system_code != system_code:
        raise NotFoundError("Không có thông điệp này trên trục liên thông")
    return row


def acknowledge(system_code: str, message_id: str) -> None:
    row = _mine(system_code, message_id)
    if row.acked_at is None:
        row.acked_at = clock.now()
        db.session.flush()


def message_state(system_code: str, message_id: str) -> str:
    return "acked" if _mine(system_code, message_id).acked_at is not None else "held"
