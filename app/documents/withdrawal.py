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
    if doc.direction != "incoming" or (doc.source_document_id is None and doc.exchange_document_id is None):
        raise DocumentStateError("Chỉ văn bản điện tử nhận qua liên thông mới trả lại được cho nơi gửi")
    if doc.status != "awaiting_registration":
        raise DocumentStateError("Văn bản đã được vào sổ; không trả lại được nữa")
    text = _reason(reason, "trả lại")
    now = clock.now()
    doc.status, doc.returned_at, doc.returned_reason, doc.updated_at = "returned", now, text, now
    _cancel_process(doc, actor, f"Trả lại nơi gửi: {text}")
    # The sender hears it from the status 02 message (deliveries.apply_status), wherever it is.
    deliveries.advance(doc, "returned", note=text, actor_name=_name(actor))
    db.session.flush()
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
    # Each recipient's system gets the sender's own recall message; a copy made before packages existed (no
    # DocumentId) is withdrawn here directly.
    from app.liaison import services as liaison
    from app.liaison.organs import organ_id_of
    from app.tenancy.models import Agency

    from . import packages

    agency = db.session.get(Agency, doc.agency_id)
    assert agency is not None
    by_name = _name(actor)
    copies: list[Document] = []
    for row in deliveries.deliveries_of(doc.id):
        if row.status in ("returned", "recalled"):
            continue
        if row.recipient_org_id and doc.exchange_document_id:
            recipient = packages.OrganInfo(organ_id=row.recipient_org_id, organ_name=row.recipient_name)
            deliveries.mark_recalled(row, note=text, actor_name=by_name)
            liaison.enqueue("recall", packages.build_recall(doc, agency, recipient, text),
                            document_id=doc.exchange_document_id, sender_org=organ_id_of(agency),
                            recipient_org=row.recipient_org_id)
        elif row.incoming_document_id is not None:
            copy = db.session.get(Document, row.incoming_document_id)
            if copy is not None and copy.status != "withdrawn":
                withdraw_copy(copy, reason=text, actor_name=by_name, user_id=actor.user_id, notify=False)
                copies.append(copy)
            deliveries.mark_recalled(row, note=text, actor_name=by_name)
    db.session.flush()
    signals.document_recalled.send(None, document_id=doc.id, agency_id=doc.agency_id, reason=text,
                                   withdrawn=[(c.agency_id, c.id) for c in copies])
    _audit("document_recalled", actor, doc.id, reason=text, copies=len(copies))
    return document_info(doc)


def withdraw_copy(copy: Document, *, reason: str, actor_name: str | None, user_id: int = 0,
                  notify: bool = True) -> None:
    """The recipient's side of a recall: hide the copy from staff (kept for audit) and stop its steps."""
    now = clock.now()
    system = ActorRef(user_id=user_id, agency_id=copy.agency_id, roles=frozenset({"clerk"}))
    copy.status, copy.updated_at = "withdrawn", now
    copy.recalled_at, copy.recall_reason = now, reason
    _cancel_process(copy, system, f"Nơi gửi thu hồi văn bản: {reason}")
    deliveries.advance(copy, "recalled", note=reason, actor_name=actor_name)
    db.session.flush()
    _audit("document_withdrawn", system, copy.id, reason=reason, source_document_id=copy.source_document_id,
           exchange_document_id=copy.exchange_document_id)
    if notify:
        signals.document_recalled.send(None, document_id=copy.source_document_id, agency_id=copy.agency_id,
                                       reason=reason, withdrawn=[(copy.agency_id, copy.id)])


def _name(actor: ActorRef) -> str | None:
    from app.tenancy.models import Staff

    return db.session.scalar(select(Staff.full_name).where(Staff.user_id == actor.user_id))


def _audit(kind: str, actor: ActorRef, document_id: int, **detail: object) -> None:
    signals.audit.send(kind=kind, agency_id=actor.agency_id, user_id=actor.user_id, target_type="document",
                       target_id=str(document_id), detail=detail)
