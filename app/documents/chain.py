"""The outgoing chain, enforced here whatever the diagram or the page (Decree 30 Art 14–15, Phụ lục I II.7–8).

    draft ─▶ review ─▶ approved ─▶ number + date from the register ─▶ final PDF (number, date, Kính gửi,
    authority line) ─▶ personal signature of the chosen signer on that PDF ─▶ agency signature by the clerk
    ─▶ delivery of exactly the sealed file

Each function is the effect of one step kind (documents/steps.py) and refuses, with a Vietnamese message,
to run out of order: signing before approval or before the number, by someone other than the signer
chosen on the draft, sealing before the personal signature, delivering without the sealed file. An agency
that issues on paper only (``Agency.issues_on_paper``) numbers at issue and attaches the signed scan.

Attachment kinds along the chain: ``original``/``appendix`` (the drafter's files), ``preview`` (draft
renders), ``final`` (the numbered PDF), ``signed`` (personal signature), ``sealed`` (agency signature),
``appendix_signed`` (appendices with the agency signature, Phụ lục I II.8.b), ``scan`` (paper issue).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, select

from app.core import clock, signals
from app.core.errors import PermissionDeniedError, ValidationError
from app.core.text import nfc
from app.extensions import db
from app.tenancy.models import Agency, Staff
from app.workflow.info import ActorRef, HumanTaskInfo

from . import services, signatures
from .attachments import UploadInfo
from .errors import DocumentStateError
from .models import Document, DocumentRevision

EDITABLE = ("draft", "in_review", "returned")
APPROVE, RETURN = "approve", "return"
# Which posted file field becomes which kind of attachment.
FILE_KINDS = {"files": "original", "appendices": "appendix", "scan": "scan"}


# -- draft ---------------------------------------------------------------------------------------
def submit_draft(document_id: int, *, actor: ActorRef, data: Mapping[str, Any],
                 files: Mapping[str, Sequence[UploadInfo]] | Sequence[UploadInfo] = (),
                 comment: str | None = None) -> dict[str, Any]:
    """Write the drafter's edits and files into the document and keep them as a new revision.

    Returns the short values the workflow stores with the step (the text stays in the document)."""
    doc = services._locked_document(document_id)
    if doc.agency_id != actor.agency_id or doc.direction != "outgoing":
        raise PermissionDeniedError("Không thể sửa dự thảo của cơ quan khác")
    if doc.status not in EDITABLE:
        raise DocumentStateError("Văn bản đã được phê duyệt hoặc ban hành; không sửa dự thảo được nữa")
    services.apply_draft_fields(doc, data)
    uploads = _uploads(files)
    services.attach_files(doc, uploads, by_user_id=actor.user_id)
    first = not db.session.scalar(select(func.count()).select_from(DocumentRevision)
                                  .where(DocumentRevision.document_id == doc.id))
    _record_revision(doc, actor, kind="submitted" if first else "resubmitted", comment=comment,
                     new_files=[a.id for a in doc.attachments[len(doc.attachments) - len(uploads):]])
    doc.status = "in_review"
    doc.updated_at = clock.now()
    services.refresh_search_text(doc)
    db.session.flush()
    return {"doc_type": doc.doc_type.code if doc.doc_type else None, "summary": doc.summary[:500],
            "urgency": doc.urgency, "signer_id": doc.signer_user_id,
            "recipient_agency_codes": list(doc.recipient_agency_codes)}


def _uploads(files: Mapping[str, Sequence[UploadInfo]] | Sequence[UploadInfo]) -> list[UploadInfo]:
    if isinstance(files, Mapping):
        out = []
        for name, items in files.items():
            kind = FILE_KINDS.get(name, "original")
            out.extend(UploadInfo(u.filename, u.data, kind=kind) for u in items)
        return out
    return list(files)


def _record_revision(doc: Document, actor: ActorRef, *, kind: str, comment: str | None,
                     new_files: Iterable[int]) -> DocumentRevision:
    number = (db.session.scalar(select(func.max(DocumentRevision.number))
                                .where(DocumentRevision.document_id == doc.id)) or 0) + 1
    row = DocumentRevision(
        document_id=doc.id, number=number, kind=kind, at=clock.now(), by_user_id=actor.user_id,
        doc_type_code=doc.doc_type.code if doc.doc_type else None, summary=doc.summary, body=doc.body,
        recipients=doc.recipients, recipient_agency_codes=list(doc.recipient_agency_codes or ()),
        signer_name=doc.signer_name, signer_position=doc.signer_position, urgency=doc.urgency,
        attachment_ids=[a.id for a in doc.attachments if a.kind in ("original", "appendix")],
        new_attachment_ids=list(new_files), comment=nfc((comment or "").strip()) or None,
    )
    db.session.add(row)
    return row


def draft_prefill(task: HumanTaskInfo) -> dict[str, Any]:
    """The draft step shows the draft as it stands (after a return, the drafter edits, not retypes)."""
    doc = db.session.get(Document, task.subject_id)
    if doc is None or doc.agency_id != task.agency_id:
        return {}
    return {"doc_type": doc.doc_type.code if doc.doc_type else None, "summary": doc.summary,
            "body": doc.body or "", "recipients": doc.recipients or "",
            "recipient_agency_codes": list(doc.recipient_agency_codes), "urgency": doc.urgency,
            "signer_id": str(doc.signer_user_id) if doc.signer_user_id else None,
            "signer_position": doc.signer_position or "",
            "due_date": doc.due_date.isoformat() if doc.due_date else None}


# -- review and approval -------------------------------------------------------------------------
def record_review(document_id: int, *, actor: ActorRef, decision: Any) -> None:
    doc = _outgoing(document_id, actor)
    if doc.status not in EDITABLE:
        raise DocumentStateError("Dự thảo không còn ở bước kiểm tra")
    if decision == RETURN:
        doc.status = "returned"
    doc.updated_at = clock.now()
    db.session.flush()


def record_approval(document_id: int, *, actor: ActorRef, decision: Any) -> None:
    """Approve the content (a step that does not sign: a deputy's approval before the head signs)."""
    doc = _outgoing(document_id, actor)
    if doc.status not in EDITABLE:
        raise DocumentStateError("Dự thảo không còn ở bước phê duyệt")
    if decision == RETURN:
        doc.status = "returned"
    elif decision == APPROVE:
        doc.status = "approved"
        doc.approved_at, doc.approved_by_id = clock.now(), actor.user_id
    doc.updated_at = clock.now()
    db.session.flush()


def approve_and_sign(document_id: int, *, actor: ActorRef, decision: Any, pin: str | None) -> dict[str, Any]:
    """The signer approves, the register gives the number and date, the final PDF is rendered with them
    and signed with the signer's personal certificate; all in the step's transaction (a refused
    signature takes back the number). Returns the values the workflow keeps."""
    doc = _outgoing(document_id, actor)
    if decision == RETURN:
        if doc.status not in (*EDITABLE, "approved"):
            raise DocumentStateError("Văn bản đã được ký hoặc ban hành, không trả lại được")
        doc.status = "returned"
        doc.updated_at = clock.now()
        db.session.flush()
        return {}
    if decision != APPROVE:
        raise ValidationError("Hãy chọn phê duyệt hoặc trả lại", field_errors={"decision": ["Bắt buộc"]})
    if doc.status not in (*EDITABLE, "approved"):
        raise DocumentStateError("Văn bản không còn chờ phê duyệt")
    _check_signer(doc, actor)
    doc.status = "approved"
    doc.approved_at = doc.approved_at or clock.now()
    doc.approved_by_id = doc.approved_by_id or actor.user_id
    if _paper_only(doc.agency_id):
        db.session.flush()
        return {}  # signed by hand; the clerk numbers it and attaches the scan at issue
    info = services.issue_outgoing(doc.id, issue_date=clock.today())
    signatures.render_final_pdf(doc.agency_id, doc.id, actor=actor)
    signatures.sign_as_leader(doc.agency_id, doc.id, _personal_signer(doc, actor, pin), actor=actor)
    doc.status = "signed"
    doc.updated_at = clock.now()
    db.session.flush()
    return {"number": info.number, "number_notation": info.number_notation,
            "issue_date": info.issue_date.isoformat() if info.issue_date else None}


def _check_signer(doc: Document, actor: ActorRef) -> None:
    if doc.signer_user_id is None:
        staff = db.session.scalar(select(Staff).where(Staff.user_id == actor.user_id,
                                                      Staff.agency_id == doc.agency_id))
        if staff is None:
            raise PermissionDeniedError("Người ký phải là cán bộ của cơ quan ban hành")
        doc.signer_user_id, doc.signer_name = staff.user_id, staff.full_name
        doc.signer_position = doc.signer_position or (staff.position.name if staff.position else None)
    elif doc.signer_user_id != actor.user_id:
        raise PermissionDeniedError(
            f"Chỉ người ký được chọn trong dự thảo ({doc.signer_name or 'người có thẩm quyền'}) mới được "
            "phê duyệt và ký văn bản này")


def _personal_signer(doc: Document, actor: ActorRef, pin: str | None) -> Any:
    if not pin:
        raise ValidationError("Nhập mã PIN của chứng thư số cá nhân để ký", field_errors={"pin": ["Bắt buộc"]})
    agency_code = _agency(doc.agency_id).code
    staff = db.session.scalar(select(Staff).where(Staff.user_id == actor.user_id))
    if staff is not None and staff.signing_method == "remote":
        return signatures.remote_signer_ref(agency_code, staff.email, credential_id=staff.remote_credential_id,
                                            pin=pin)
    return signatures.personal_signer_ref(agency_code, staff.email if staff else "", passphrase=pin)


# -- issue ---------------------------------------------------------------------------------------
def seal_and_issue(document_id: int, *, actor: ActorRef, data: Mapping[str, Any],
                   files: Mapping[str, Sequence[UploadInfo]] | Sequence[UploadInfo] = (),
                   pin: str | None = None) -> dict[str, Any]:
    """The clerk issues: the agency signature on the signed final PDF and on each PDF appendix
    (electronic), or the number, date and the signed paper's scan (an agency issuing on paper)."""
    doc = _outgoing(document_id, actor)
    if "clerk" not in actor.roles:
        raise PermissionDeniedError("Chỉ văn thư của cơ quan được phát hành văn bản")
    if doc.status in ("issued", "delivered"):
        raise DocumentStateError("Văn bản đã được phát hành")
    if _paper_only(doc.agency_id):
        scans = [u for u in _uploads(files) if u.kind == "scan"] or [
            UploadInfo(u.filename, u.data, kind="scan") for u in _uploads(files)]
        if not scans:
            raise ValidationError("Cơ quan ban hành văn bản giấy: hãy đính kèm bản quét văn bản đã ký, đóng dấu",
                                  field_errors={"scan": ["Bắt buộc"]})
        if doc.status != "approved":
            raise DocumentStateError("Văn bản chưa được người có thẩm quyền phê duyệt")
        info = services.issue_outgoing(doc.id, issue_date=data.get("issue_date"), copies=data.get("copies"))
        services.attach_files(doc, scans, by_user_id=actor.user_id, verify=True)
    else:
        if doc.status != "signed":
            raise DocumentStateError("Văn bản chưa có chữ ký số của người có thẩm quyền; chưa phát hành được")
        signatures.apply_agency_signature(doc.agency_id, doc.id, actor=actor, pin=pin)
        signatures.seal_appendices(doc.agency_id, doc.id, actor=actor, pin=pin)
        if data.get("copies") not in (None, ""):
            doc.copies = int(data["copies"])
        info = services.document_info(doc)
    doc.status = "issued"
    doc.issued_at = clock.now()
    doc.updated_at = doc.issued_at
    db.session.flush()
    signals.document_issued.send(None, document_id=doc.id, agency_id=doc.agency_id)
    return {"number": info.number, "number_notation": info.number_notation,
            "issue_date": info.issue_date.isoformat() if info.issue_date else None}


# -- helpers -------------------------------------------------------------------------------------
def _outgoing(document_id: int, actor: ActorRef) -> Document:
    doc = services._locked_document(document_id)
    if doc.agency_id != actor.agency_id or doc.direction != "outgoing":
        raise PermissionDeniedError("Không thể thao tác trên văn bản của cơ quan khác")
    return doc


def _agency(agency_id: int) -> Agency:
    agency = db.session.get(Agency, agency_id)
    assert agency is not None
    return agency


def _paper_only(agency_id: int) -> bool:
    return bool(db.session.scalar(select(Agency.issues_on_paper).where(Agency.id == agency_id)))


# -- receipt -------------------------------------------------------------------------------------
def registration_prefill(task: HumanTaskInfo) -> dict[str, Any]:
    """What the delivered document already says: the clerk confirms instead of retyping (#11.5)."""
    doc = db.session.get(Document, task.subject_id)
    if doc is None or doc.agency_id != task.agency_id:
        return {}
    return {
        "doc_type": doc.doc_type.code if doc.doc_type else None, "number_notation": doc.number_notation or "",
        "issuer_name": doc.issuer_name or "", "issuer_org_id": doc.issuer_org_id or "",
        "issue_date": doc.issue_date.isoformat() if doc.issue_date else None, "summary": doc.summary,
        "signer_name": doc.signer_name or "", "signer_position": doc.signer_position or "",
        "pages": doc.pages, "urgency": doc.urgency, "confidentiality": doc.confidentiality,
        "channel": doc.channel or "electronic", "recipients": doc.recipients or "",
        "due_date": doc.due_date.isoformat() if doc.due_date else None,
        "received_at": None,
    }


def _today() -> dt.date:
    return clock.today()
