"""Revising an outgoing draft at its ``draft`` step (first submission of a reply, or after a return)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from app.core import clock
from app.core.errors import PermissionDeniedError
from app.extensions import db
from app.tenancy.models import Agency
from app.workflow import services as wf
from app.workflow.info import ActorRef, HumanTaskInfo

from .errors import DocumentStateError
from .info import DocumentInfo, document_info
from .refusals import check_admissible
from .services import (
    MAX_SUMMARY,
    URGENCIES,
    _doc_type,
    _Input,
    _locked_document,
    _signer,
    _type_name,
    refresh_search_text,
)


def revise_outgoing_draft(task: HumanTaskInfo, *, actor: ActorRef, data: Mapping[str, Any],
                          comment: str | None = None) -> DocumentInfo:
    """Write the drafter's edits into the document, then submit the ``draft`` step (one transaction)."""
    doc = _locked_document(task.subject_id)
    if doc.agency_id != actor.agency_id or doc.direction != "outgoing":
        raise PermissionDeniedError("Không thể sửa dự thảo của cơ quan khác")
    if doc.status not in ("draft", "in_review"):
        raise DocumentStateError("Văn bản đã được phê duyệt hoặc ban hành; không sửa dự thảo được nữa")
    inp = _Input(data)
    check_admissible({**inp.data, "type_name": _type_name(inp.data)})
    doc_type = _doc_type(inp, required=True)
    summary = inp.text("summary", required=True, max_length=MAX_SUMMARY)
    codes = inp.codes("recipient_agency_codes")
    signer_id = inp.integer("signer_id", minimum=1, maximum=2**31 - 1)
    signer = _signer(doc.agency_id, signer_id, inp) if signer_id else None
    if codes:
        known = set(db.session.scalars(select(Agency.code).where(Agency.code.in_(codes), Agency.active.is_(True))))
        unknown = [c for c in codes if c not in known]
        if unknown:
            inp.error("recipient_agency_codes", "Không có cơ quan: " + ", ".join(unknown))
    body = inp.text("body", max_length=200_000)
    recipients = inp.text("recipients", max_length=4000)
    urgency = inp.choice("urgency", URGENCIES, doc.urgency or "thuong")
    due_date = inp.date("due_date")
    inp.raise_if_any("Thông tin dự thảo chưa hợp lệ")
    doc.doc_type = doc_type
    doc.summary = summary or doc.summary
    doc.body = body
    doc.recipients = recipients
    doc.recipient_agency_codes = list(dict.fromkeys(codes))
    doc.urgency = urgency
    doc.due_date = due_date
    if signer is not None:
        doc.signer_user_id = signer.user_id
        doc.signer_name = signer.full_name
        doc.signer_position = inp.text("signer_position", max_length=120) or (
            signer.position.name if signer.position else doc.signer_position)
    doc.status = "in_review"
    doc.updated_at = clock.now()
    refresh_search_text(doc)
    db.session.flush()
    form = {"doc_type": doc_type.code if doc_type else None, "summary": doc.summary[:500], "urgency": urgency,
            "signer_id": doc.signer_user_id, "recipient_agency_codes": list(doc.recipient_agency_codes)}
    wf.complete_task(task.id, actor, form, comment=comment)
    return document_info(doc)
