"""What the sender sees of each recipient (Art 21.2 Decree 30; Phụ lục VI III.1.e, k, o).

One ``Delivery`` row per recipient of an issued document, with the recipient's latest status and a
log of every change. Statuses are the edXML status codes of QCVN 102:2016 and travel as status messages
(app.liaison) both inside this deployment and over the national axis:

- at the recipient, ``advance(copy, status)`` queues the status message to the sender's system;
- at the sender, ``apply_status(info)`` moves the recipient's row forward: never backwards, never twice,
  whatever order the messages arrive in; a return (02) or a recall ends it.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.core import clock, signals
from app.core.text import nfc
from app.extensions import db
from app.interchange import OrganInfo, ResponseForInfo, StaffInfo, StatusCode, StatusInfo, build_status
from app.interchange.fields import document_id_organ
from app.liaison import services as liaison
from app.liaison.organs import organ_id_of
from app.tenancy.models import Agency

from .models import Delivery, DeliveryEvent, Document

log = logging.getLogger("qlvb.documents.deliveries")

# status -> (edXML StatusCode, Vietnamese label)
STATUSES: dict[str, tuple[str | None, str]] = {
    "sent": (None, "Đã gửi"),
    "arrived": ("01", "Đã đến"),
    "returned": ("02", "Trả lại"),
    "registered": ("03", "Đã vào sổ"),
    "assigned": ("04", "Đã phân công"),
    "processing": ("05", "Đang xử lý"),
    "done": ("06", "Hoàn thành"),
    "recalled": (None, "Đã thu hồi"),
}
BY_CODE = {code: status for status, (code, _label) in STATUSES.items() if code}
# A recipient's status only moves forward; a return or a recall ends it.
_ORDER = ("sent", "arrived", "registered", "assigned", "processing", "done")
_FINAL = ("returned", "recalled")


def label(status: str) -> str:
    return STATUSES.get(status, (None, status))[1]


def record_sent(outgoing: Document, *, organ_id: str, name: str, agency: Agency | None = None) -> Delivery:
    """The package to this recipient is queued: the sender sees "Đã gửi" until the recipient answers."""
    now = clock.now()
    row = Delivery(document_id=outgoing.id, recipient_agency_id=agency.id if agency is not None else None,
                   recipient_code=agency.code if agency is not None else organ_id, recipient_org_id=organ_id,
                   recipient_name=name, status="sent", status_at=now, created_at=now)
    db.session.add(row)
    db.session.flush()
    db.session.add(DeliveryEvent(delivery_id=row.id, status="sent", at=now))
    db.session.flush()
    return row


def advance(incoming: Document, status: str, *, note: str | None = None, actor_name: str | None = None) -> None:
    """At the recipient: tell the sender's system that this received copy is now ``status``."""
    if incoming.exchange_document_id is None:
        if incoming.source_document_id is not None:  # a copy made before packages (same database)
            row = db.session.scalar(select(Delivery).where(Delivery.incoming_document_id == incoming.id))
            if row is not None:
                _move(row, status, note=note, actor_name=actor_name)
        return
    code = STATUSES.get(status, (None, ""))[0]
    if code is None:
        return  # "recalled" is the sender's own act; it is never reported back
    agency = db.session.get(Agency, incoming.agency_id)
    assert agency is not None
    document_id = incoming.exchange_document_id
    sender_org, ours = document_id_organ(document_id), organ_id_of(agency)
    text = nfc(note)[:2000] if note else ""
    description = text if status == "returned" and text else f"{StatusCode(code).label}{': ' + text if text else ''}"
    payload = build_status(StatusInfo(
        response_for=ResponseForInfo(organ_id=sender_org, code=incoming.number_notation or "",
                                     promulgation_date=incoming.issue_date, document_id=document_id),
        sender=OrganInfo(organ_id=ours, organ_name=agency.name),
        code=StatusCode(code), timestamp=clock.now().astimezone(clock.VN_TZ).replace(tzinfo=None, microsecond=0),
        description=description[:2000], staff=StaffInfo(staff=actor_name) if actor_name else None,
    ))
    liaison.enqueue("status", payload, document_id=document_id, sender_org=ours, recipient_org=sender_org,
                    code=code)


def apply_status(info: StatusInfo) -> None:
    """At the sender: a status message from a recipient's system."""
    reason = info.description if info.code == StatusCode.REJECTED else None
    apply_code(info.response_for.document_id, info.sender.organ_id, info.code.value, note=reason,
               actor_name=info.staff.staff if info.staff and info.staff.staff else None)


def apply_code(document_id: str, recipient_org: str, code: str, *, note: str | None = None,
               actor_name: str | None = None) -> None:
    status = BY_CODE.get(code)
    if status is None:
        log.info("status %s of %s from %s: not a delivery status, recorded only", code, document_id, recipient_org)
        return
    row = db.session.execute(
        select(Delivery).join(Document, Document.id == Delivery.document_id)
        .where(Document.exchange_document_id == document_id, Delivery.recipient_org_id == recipient_org)
        .with_for_update(of=Delivery)).scalar_one_or_none() if document_id else None
    if row is None:
        log.warning("status %s of %s from %s matches no delivery of ours: ignored", code, document_id or "?",
                    recipient_org)
        return
    if row.recipient_agency_id is not None and row.incoming_document_id is None:
        row.incoming_document_id = db.session.scalar(select(Document.id).where(
            Document.agency_id == row.recipient_agency_id, Document.direction == "incoming",
            Document.exchange_document_id == document_id))
    _move(row, status, note=note, actor_name=actor_name)


def mark_recalled(row: Delivery, *, note: str, actor_name: str | None) -> None:
    _move(row, "recalled", note=note, actor_name=actor_name)


def _move(row: Delivery, status: str, *, note: str | None, actor_name: str | None) -> None:
    if row.status in _FINAL:
        return
    if status not in _FINAL and status in _ORDER and row.status in _ORDER \
            and _ORDER.index(status) <= _ORDER.index(row.status):
        return
    now = clock.now()
    row.status, row.status_at = status, now
    if note:
        row.reason = nfc(note)[:2000]
    db.session.add(DeliveryEvent(delivery_id=row.id, status=status, at=now, actor_name=actor_name,
                                 note=nfc(note)[:2000] if note else None))
    db.session.flush()
    signals.delivery_status_changed.send(None, document_id=row.document_id, delivery_id=row.id, status=status,
                                         agency_id=row.recipient_agency_id)
    if status == "returned":
        signals.document_returned.send(None, document_id=row.document_id, incoming_document_id=row.incoming_document_id,
                                       delivery_id=row.id, agency_id=row.recipient_agency_id, reason=row.reason)


def deliveries_of(document_id: int) -> list[Delivery]:
    return list(db.session.scalars(select(Delivery).where(Delivery.document_id == document_id)
                                   .order_by(Delivery.id)))


def events_of(delivery_ids: list[int]) -> dict[int, list[DeliveryEvent]]:
    out: dict[int, list[DeliveryEvent]] = {i: [] for i in delivery_ids}
    if not delivery_ids:
        return out
    for ev in db.session.scalars(select(DeliveryEvent).where(DeliveryEvent.delivery_id.in_(delivery_ids))
                                 .order_by(DeliveryEvent.at, DeliveryEvent.id)):
        out[ev.delivery_id].append(ev)
    return out
