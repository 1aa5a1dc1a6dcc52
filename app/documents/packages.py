"""What the documents domain sends and receives over the axis (app.liaison moves it, app.interchange formats).

    build_package(doc, agency, files, recipient)   the edXML package of an issued document for one recipient
    build_recall(doc, agency, recipient, reason)   the sender's own recall message (BussinessDocType 1)
    receive_package(info, agency_id)               a package lands as "chờ vào sổ", prefilled and verified here
    receive_recall(info, agency_id)                the copy is withdrawn, its open steps cancelled
    register_exchange_handlers()                   tell app.liaison which function takes which message
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.core import clock
from app.core.text import nfc
from app.extensions import db
from app.interchange import (
    AttachmentInfo,
    BusinessDocType,
    BusinessInfo,
    CodeInfo,
    DocumentTypeInfo,
    EnvelopeInfo,
    MessageHeaderInfo,
    OrganInfo,
    OtherInfo,
    PromulgationInfo,
    SignerInfo,
    TraceHeaderInfo,
    TraceHeaderListInfo,
    build_envelope,
    document_id_for,
)
from app.liaison import services as liaison
from app.liaison.organs import local_agency, organ_id_of
from app.tenancy.models import Agency
from app.workflow import services as wf
from app.workflow.info import ActorRef

from .attachments import UploadInfo, check_file, new_attachment
from .models import Attachment, Document, DocumentType
from .signatures import verify_attachment
from .storage import default_storage

log = logging.getLogger("qlvb.documents.exchange")

# Độ khẩn <-> OtherInfo/Priority (interchange.PRIORITY_LABELS).
PRIORITY = {"thuong": 0, "khan": 1, "thuong_khan": 2, "hoa_toc": 3}
URGENCY = {0: "thuong", 1: "khan", 2: "thuong_khan", 3: "hoa_toc", 4: "hoa_toc"}
# What each delivered file is, carried in the package as the attachment's Description.
_SCAN = "scan"
MAX_FILE_BYTES = 64 * 1024 * 1024


def document_id_of(doc: Document, agency: Agency) -> str:
    number, _, notation = (doc.number_notation or "").partition("/")
    assert doc.issue_date is not None and number and notation, "only a numbered document has a DocumentId"
    return document_id_for(organ_id_of(agency), doc.issue_date, number, notation)


def sender_organ(agency: Agency) -> OrganInfo:
    return OrganInfo(organ_id=organ_id_of(agency), organ_name=agency.name,
                     organization_in_charge=agency.governing_body or "")


def _trace(agency: Agency, business: BusinessInfo) -> TraceHeaderListInfo:
    return TraceHeaderListInfo(business=business, traces=(
        TraceHeaderInfo(organ_id=organ_id_of(agency), timestamp=clock.now().astimezone(clock.VN_TZ)
                        .replace(tzinfo=None, microsecond=0)),))


def _header(doc: Document, agency: Agency, recipient: OrganInfo) -> MessageHeaderInfo:
    number, _, notation = (doc.number_notation or "").partition("/")
    assert doc.issue_date is not None and doc.exchange_document_id
    places = tuple(p for p in (line.strip(" -;\t") for line in (doc.recipients or "").splitlines()) if p)
    return MessageHeaderInfo(
        sender=sender_organ(agency), recipients=(recipient,), code=CodeInfo(number=number, notation=notation),
        promulgation=PromulgationInfo(date=doc.issue_date, place=agency.place or ""),
        document_type=DocumentTypeInfo(type_name=doc.doc_type.name if doc.doc_type else "Công văn", type=1),
        subject=doc.summary or "(không có trích yếu)", signer=SignerInfo(
            full_name=doc.signer_name or "(không rõ)", position=doc.signer_position or ""),
        document_id=doc.exchange_document_id, due_date=doc.due_date, to_places=places,
        other=OtherInfo(priority=PRIORITY.get(doc.urgency, 0), page_amount=doc.pages,
                        promulgation_amount=doc.copies),
        steering_type=0,
    )


def build_package(doc: Document, agency: Agency, files: list[Attachment], recipient: OrganInfo) -> bytes:
    store = default_storage()
    attachments = tuple(
        AttachmentInfo(content_id=f"{i + 1}.{att.sha256[:16]}", name=att.filename, content_type=att.content_type,
                       content=store.get(att.storage_key), description=_SCAN if att.kind == "scan" else att.kind)
        for i, att in enumerate(files)
    )
    return build_envelope(EnvelopeInfo(
        header=_header(doc, agency, recipient),
        trace=_trace(agency, BusinessInfo(doc_type=BusinessDocType.NEW, document_id=doc.exchange_document_id or "",
                                          paper=0)),
        attachments=attachments,
    ))


def build_recall(doc: Document, agency: Agency, recipient: OrganInfo, reason: str) -> bytes:
    return build_envelope(EnvelopeInfo(
        header=_header(doc, agency, recipient),
        trace=_trace(agency, BusinessInfo(doc_type=BusinessDocType.RECALL, doc_reason=reason,
                                          document_id=doc.exchange_document_id or "", paper=0)),
    ))


def _doc_type(name: str) -> DocumentType | None:
    wanted = nfc(name).casefold()
    for row in db.session.scalars(select(DocumentType).where(DocumentType.active.is_(True))):
        if nfc(row.name).casefold() == wanted:
            return row
    return None


def receive_package(info: EnvelopeInfo, agency_id: int) -> int:
    """A package addressed to our agency ``agency_id`` lands as "chờ vào sổ" with what it says (Điều 21, 22).

    The files are stored here and their signatures verified against the RECEIVING agency's trust roots; its
    own ``incoming`` process starts at the register step, and the sender is told "Đã đến" (status 01)."""
    from . import deliveries
    from .services import INCOMING_PROCESS, _summarise_signatures, _workflow_data, refresh_search_text

    target = db.session.get(Agency, agency_id)
    assert target is not None
    h = info.header
    sender_agency = local_agency(h.sender.organ_id)
    source = None
    if sender_agency is not None:
        source = db.session.scalar(select(Document).where(
            Document.agency_id == sender_agency.id, Document.direction == "outgoing",
            Document.exchange_document_id == h.document_id))
    now = clock.now()
    doc_type = _doc_type(h.document_type.type_name)
    issuer_org = (sender_agency.org_identifier or sender_agency.code) if sender_agency is not None \
        else h.sender.organ_id
    incoming = Document(
        agency_id=target.id, direction="incoming", status="awaiting_registration", confidentiality="thuong",
        doc_type_id=doc_type.id if doc_type else None, number_notation=str(h.code)[:80],
        issuer_name=h.sender.organ_name or (sender_agency.name if sender_agency else h.sender.organ_id),
        issuer_org_id=issuer_org, issue_date=h.promulgation.date, summary=h.subject,
        signer_name=h.signer.full_name or None, signer_position=h.signer.position or None,
        pages=h.other.page_amount if h.other else None,
        urgency=URGENCY.get(h.other.priority if h.other and h.other.priority is not None else 0, "thuong"),
        recipients="\n".join(h.to_places) or None, recipient_agency_codes=[], due_date=h.due_date,
        channel="electronic", received_at=now, arrival_date=now.astimezone(clock.VN_TZ).date(), back_entered=False,
        source_document_id=source.id if source is not None else None, exchange_document_id=h.document_id,
        created_at=now, updated_at=now,
    )
    store = default_storage()
    for att in info.attachments:
        checked = check_file(UploadInfo(att.name, att.content), max_bytes=MAX_FILE_BYTES)
        row = new_attachment(checked, att.content, storage=store,
                             kind="scan" if att.description == _SCAN else "original", uploaded_by_id=None)
        incoming.attachments.append(row)
        if row.content_type == "application/pdf":
            # The receiving agency's own verdict, against its own trust roots (never the sender's).
            verify_attachment(row, att.content, agency_code=target.code)
    _summarise_signatures(incoming)
    db.session.add(incoming)
    db.session.flush()
    refresh_search_text(incoming)
    # The process starts on behalf of the sender when it is one of ours, else of the receiving clerk.
    starter = source.created_by_id if source is not None and source.created_by_id else system_user_id(target.id)
    system = ActorRef(user_id=starter, agency_id=target.id, roles=frozenset({"clerk"}))
    wf.start_instance(target.id, INCOMING_PROCESS, subject_type="incoming", subject_id=incoming.id,
                      data=_workflow_data(incoming, {"source_document_id": incoming.source_document_id}),
                      actor=system)
    deliveries.advance(incoming, "arrived")
    log.info("received %s from %s for %s as document %s", h.document_id, h.sender.organ_id, target.code,
             incoming.id)
    return incoming.id


def system_user_id(agency_id: int) -> int:
    """The account a received message acts as at ``agency_id``: its first clerk, else its first staff member,
    else the first account (the workflow records who started or stopped a step; no one typed anything)."""
    from flask_appbuilder.security.sqla.models import Role, User

    from app.tenancy.models import Staff

    staff = select(Staff.user_id).where(Staff.agency_id == agency_id, Staff.user_id.is_not(None))
    clerk = db.session.scalar(staff.join(User, User.id == Staff.user_id).where(User.roles.any(Role.name == "clerk"))
                              .order_by(Staff.id).limit(1))
    anyone = clerk or db.session.scalar(staff.order_by(Staff.id).limit(1))
    return int(anyone or db.session.scalar(select(User.id).order_by(User.id).limit(1)) or 0)


def receive_recall(info: EnvelopeInfo, agency_id: int) -> int | None:
    """The sender recalled the document (Art 18.4): withdraw our copy, keep it for audit, stop its steps."""
    from .withdrawal import withdraw_copy

    copy = db.session.scalar(select(Document).where(
        Document.agency_id == agency_id, Document.direction == "incoming",
        Document.exchange_document_id == info.header.document_id).with_for_update())
    if copy is None:
        log.warning("recall of %s for agency %s: no copy here, nothing to withdraw", info.header.document_id,
                    agency_id)
        return None
    reason = info.trace.business.doc_reason or "Nơi gửi thu hồi văn bản"
    withdraw_copy(copy, reason=reason, actor_name=info.header.sender.organ_name or None,
                  user_id=system_user_id(agency_id))
    return copy.id


def undeliverable(kind: str, document_id: str, recipient_org: str, message: str) -> None:
    """The axis refused a package for good: the sender sees it as not received, with the axis's words."""
    from . import deliveries

    if kind == "package":
        deliveries.apply_code(document_id, recipient_org, "02", note=message)


def register_exchange_handlers() -> None:
    from . import deliveries

    liaison.register_handler("package", receive_package)
    liaison.register_handler("recall", receive_recall)
    liaison.register_handler("status", deliveries.apply_status)
    liaison.register_handler("undeliverable", undeliverable)
