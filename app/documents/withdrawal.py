"""A delivered document sent back by its recipient, and an issued document recalled by its issuer.

- Return (Phụ lục VI III.1.o): the recipient's clerk refuses a wrong or invalid copy with a reason before
  registering it; its process is cancelled and the sender sees "Trả lại" with the reason, the same day.
- Recall (Art 18.4 Decree 30, Phụ lục VI III.8): the issuer recalls an issued document with a reason; it
  is frozen at the sender, each recipient's copy is withdrawn (hidden from staff, kept for audit) and its
  open steps cancelled; every step is logged on both sides.
"""

from __future__ import annotations

from sqlalchemy import select

from app.core import clock, signals
from app.core.errors import PermissionDeniedError, ValidationError
from app.core.text import nfc
from app.extensions import db
from app.workflow import queries as wf_queries
from app.workflow import services as wf
from app.workflow.info import ActorRef

from . import deliveries
from .errors import DocumentStateError
from .info import DocumentInfo, document_info
from .models import Document
from .services import _locked_document

RECALLING_ROLES = frozenset({"clerk", "leader"})


def _reason(text: str | None, what: str) -> str:
    reason = nfc((text or "").strip())
    if len(reason) < 5:
        raise ValidationError(f"Hãy nêu lý do {what} (ít nhất 5 ký tự)", field_errors={"reason": ["Bắt buộc"]})
    return reason[:2000]


def _cancel_process(doc: Document, actor: ActorRef, comment: str) -> None:
    for instance in wf_queries.instances_for_subject(doc.direction, doc.id, agency_id=doc.agency_id):
        if instance.status == "running":
            wf.cancel_instance(instance.id, actor, comment=comment)


def return_received(document_id: int, *, actor: ActorRef, reason: str | None) -> DocumentInfo:
    """Send a delivered copy back to its sender instead of registering it."""
    doc = _locked_document(document_id)
    if doc.agency_id != actor.agency_id or "clerk" not in actor.roles:
        raise PermissionDeniedError("Chỉ văn thư của cơ quan nhận được trả lại văn bản")
    if doc.direction != "incoming" or doc.source_document_id is None:
        raise DocumentStateError("Chỉ văn bản điện tử nhận qua liên thông mới trả lại được cho nơi gửi")
    if doc.status != "awaiting_registration":
        raise DocumentStateError("Văn bản đã được vào sổ; không trả lại được nữa")
    text = _reason(reason, "trả lại")
    now = clock.now()
    doc.status, doc.returned_at, doc.returned_reason, doc.updated_at = "returned", now, text, now
    _cancel_process(doc, actor, f"Trả lại nơi gửi: {text}")
    deliveries.advance(doc, "returned", note=text, actor_name=_name(actor))
    db.session.flush()
    signals.document_returned.send(None, document_id=doc.source_document_id, incoming_document_id=doc.id,
                                   agency_id=doc.agency_id, reason=text)
    _audit("document_returned", actor, doc.id, reason=text)
    return document_info(doc)


def recall_outgoing(document_id: int, *, actor: ActorRef, reason: str | None) -> DocumentInfo:
    """Recall an issued document: freeze it and withdraw every copy that was delivered."""
    doc = _locked_document(document_id)
    if doc.agency_id != actor.agency_id or not RECALLING_ROLES & actor.roles:
        raise PermissionDeniedError("Chỉ văn thư hoặc lãnh đạo của cơ quan ban hành được thu hồi văn bản")
    if doc.direction != "outgoing" or doc.status not in ("issued", "delivered"):
        raise DocumentStateError("Chỉ văn bản đã ban hành mới thu hồi được")
    text = _reason(reason, "thu hồi")
    now = clock.now()
    doc.status, doc.recalled_at, doc.recalled_by_id, doc.recall_reason = "recalled", now, actor.user_id, text
    doc.updated_at = now
    _cancel_process(doc, actor, f"Thu hồi: {text}")
    copies = list(db.session.scalars(
        select(Document).where(Document.source_document_id == doc.id, Document.direction == "incoming")
        .with_for_update()))
    for copy in copies:
        system = ActorRef(user_id=actor.user_id, agency_id=copy.agency_id, roles=frozenset({"clerk"}))
        copy.status, copy.updated_at = "withdrawn", now
        copy.recalled_at, copy.recall_reason = now, text
        _cancel_process(copy, system, f"Nơi gửi thu hồi văn bản: {text}")
        deliveries.advance(copy, "recalled", note=text, actor_name=_name(actor))
        _audit("document_withdrawn", system, copy.id, reason=text, source_document_id=doc.id)
    db.session.flush()
    signals.document_recalled.send(None, document_id=doc.id, agency_id=doc.agency_id, reason=text,
                                   withdrawn=[(c.agency_id, c.id) for c in copies])
    _audit("document_recalled", actor, doc.id, reason=text, copies=len(copies))
    return document_info(doc)


def _name(actor: ActorRef) -> str | None:
    from app.tenancy.models import Staff

    return db.session.scalar(select(Staff.full_name).where(Staff.user_id == actor.user_id))


def _audit(kind: str, actor: ActorRef, document_id: int, **detail: object) -> None:
    signals.audit.send(kind=kind, agency_id=actor.agency_id, user_id=actor.user_id, target_type="document",
                       target_id=str(document_id), detail=detail)
