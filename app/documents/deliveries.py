"""What the sender sees of each recipient (Art 21.2 Decree 30; Phụ lục VI III.1.e, k, o).

One ``Delivery`` row per recipient of an issued document, with the recipient's latest status and a
log of every change. Statuses follow the edXML status codes of QCVN 102:2016 so that a delivery over
the national axis reports the same way as one inside this deployment.
"""

from __future__ import annotations

from sqlalchemy import select

from app.core import clock, signals
from app.core.text import nfc
from app.extensions import db
from app.tenancy.models import Agency

from .models import Delivery, DeliveryEvent, Document

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
# A recipient's status only moves forward; a return or a recall ends it.
_ORDER = ("sent", "arrived", "registered", "assigned", "processing", "done")
_FINAL = ("returned", "recalled")


def label(status: str) -> str:
    return STATUSES.get(status, (None, status))[1]


def record_sent(outgoing: Document, target: Agency, incoming: Document) -> Delivery:
    """The copy exists at the recipient: in this deployment it has arrived at once (status 01)."""
    now = clock.now()
    row = Delivery(document_id=outgoing.id, recipient_agency_id=target.id, recipient_code=target.code,
                   recipient_name=target.name, incoming_document_id=incoming.id, status="arrived",
                   status_at=now, created_at=now)
    db.session.add(row)
    db.session.flush()
    db.session.add(DeliveryEvent(delivery_id=row.id, status="sent", at=now))
    db.session.add(DeliveryEvent(delivery_id=row.id, status="arrived", at=now))
    return row


def advance(incoming: Document, status: str, *, note: str | None = None, actor_name: str | None = None) -> None:
    """Move the sender's view of this received copy to ``status`` (never backwards)."""
    if incoming.source_document_id is None:
        return
    row = db.session.scalar(select(Delivery).where(Delivery.incoming_document_id == incoming.id))
    if row is None or row.status in _FINAL:
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
                                         agency_id=incoming.agency_id)


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
