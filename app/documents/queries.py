"""Read-only access to documents, with the agency and need-to-know checks views rely on.

Who sees a document of their agency: clerks and leaders (they register and direct everything); the
person who created it; members of its lead or coordinating department; anyone who has, or had, a
workflow task on it. Other agencies never see it (NotFoundError, so ids reveal nothing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import joinedload, raiseload, selectinload

from app.core.clock import VN_TZ
from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.liaison.queries import transmissions_of
from app.render import render_table_report
from app.tenancy.models import Staff
from app.workflow.info import ActorRef
from app.workflow.models import HumanTask, ProcessInstance

from . import deliveries
from .info import (
    AttachmentInfo,
    DeliveryEventInfo,
    DeliveryInfo,
    DocumentInfo,
    RevisionInfo,
    attachment_info,
    document_info,
)
from .models import Attachment, Document, DocumentRevision, Register, document_coordinating_department
from .numbering import format_number
from .storage import BlobStream, Storage, default_storage, open_blob

SEE_ALL_ROLES = frozenset({"clerk", "leader"})
MAX_PAGE = 200
URGENCY_LABELS = {"thuong": "Thường", "khan": "Khẩn", "thuong_khan": "Thượng khẩn", "hoa_toc": "Hỏa tốc"}
STATUS_LABELS = {
    "awaiting_registration": "Chờ vào sổ", "registered": "Đã vào sổ", "in_progress": "Đang xử lý",
    "done": "Đã xử lý xong", "draft": "Dự thảo", "in_review": "Đang trình duyệt", "approved": "Đã phê duyệt",
    "issued": "Đã ban hành", "delivered": "Đã gửi", "returned": "Bị trả lại", "withdrawn": "Đã bị thu hồi",
    "signed": "Đã ký số", "recalled": "Đã thu hồi", "assigned": "Đã phân công",
}
# Copies withdrawn by their issuer stay for the audit trail but leave every staff list (Phụ lục VI III.8).
HIDDEN_STATUSES = ("withdrawn",)


@dataclass(frozen=True)
class DocumentPage:
    items: tuple[DocumentInfo, ...]
    total: int
    limit: int
    offset: int


def _involved_clause(actor: ActorRef) -> Any:
    """SQL: the actor has or had a task on the document, or it belongs to their department."""
    task = exists().where(
        HumanTask.subject_type == Document.direction,
        HumanTask.subject_id == Document.id,
        HumanTask.agency_id == actor.agency_id,
        or_(
            HumanTask.candidate_user_id == actor.user_id,
            HumanTask.claimed_by_id == actor.user_id,
            HumanTask.completed_by_id == actor.user_id,
            and_(
                HumanTask.state == "open",
                HumanTask.candidate_user_id.is_(None),
                HumanTask.candidate_role.in_(sorted(actor.roles) or [""]),
                or_(HumanTask.candidate_department_id.is_(None),
                    HumanTask.candidate_department_id == actor.department_id),
            ),
        ),
    )
    clauses = [Document.created_by_id == actor.user_id, task]
    if actor.department_id is not None:
        clauses.append(Document.lead_department_id == actor.department_id)
        clauses.append(exists().where(
            document_coordinating_department.c.document_id == Document.id,
            document_coordinating_department.c.department_id == actor.department_id,
        ))
    return or_(*clauses)


def _visible(stmt: Any, agency_id: int, actor: ActorRef) -> Any:
    stmt = stmt.where(Document.agency_id == agency_id)
    if actor.agency_id != agency_id:
        return stmt.where(False)
    if SEE_ALL_ROLES & actor.roles:
        return stmt
    return stmt.where(_involved_clause(actor))


def _instance_id(doc: Document) -> int | None:
    from app.workflow.queries import instances_for_subject

    instances = instances_for_subject(doc.direction, doc.id, agency_id=doc.agency_id)
    return instances[-1].id if instances else None


def _latest_instance_id() -> Any:
    """The newest process instance of the document, as a column of the document's own query."""
    return (select(ProcessInstance.id)
            .where(ProcessInstance.subject_type == Document.direction, ProcessInstance.subject_id == Document.id,
                   ProcessInstance.agency_id == Document.agency_id)
            .order_by(ProcessInstance.id.desc()).limit(1).correlate(Document).scalar_subquery())


def _document_page() -> tuple[Any, ...]:
    """What a document page reads, loaded on purpose (three queries whatever the number of files); nothing else.
    (Built per call: loader options at import time would configure the mappers before every model exists.)"""
    return (joinedload(Document.doc_type), selectinload(Document.attachments),
            selectinload(Document.coordinating_departments), raiseload("*"))


def get_document(agency_id: int, document_id: int, actor: ActorRef) -> DocumentInfo:
    """The document with its files, if ``actor`` may see it; otherwise NotFoundError."""
    stmt = _visible(select(Document, _latest_instance_id()).where(Document.id == document_id), agency_id, actor)
    row = db.session.execute(stmt.options(*_document_page())).unique().first()
    if row is None:
        raise NotFoundError("Không tìm thấy văn bản hoặc bạn không có quyền xem văn bản này")
    doc, instance_id = row
    return document_info(doc, instance_id=instance_id)


def document_briefs(agency_id: int, ids: list[int]) -> list[tuple[int, str, str | None, str | None]]:
    """(id, summary, number and notation, urgency) of each document, for inbox rows, in one query."""
    if not ids:
        return []
    rows = db.session.execute(select(Document.id, Document.summary, Document.number_notation, Document.urgency)
                              .where(Document.agency_id == agency_id, Document.id.in_(ids)))
    return [(r.id, r.summary, r.number_notation, r.urgency) for r in rows]


def list_documents(
    agency_id: int,
    *,
    direction: str,
    actor: ActorRef,
    year: int | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
    register_id: int | None = None,
    updated_since: dt.datetime | None = None,
) -> DocumentPage:
    """Newest first (by register number within the year, then creation), what ``actor`` may see;
    ``updated_since`` keeps those changed at or after that moment (an integrator's incremental sync)."""
    if direction not in ("incoming", "outgoing"):
        raise ValidationError("Loại sổ không hợp lệ", field_errors={"direction": ["Giá trị không hợp lệ"]})
    limit = max(1, min(int(limit), MAX_PAGE))
    offset = max(0, int(offset))
    base = _visible(select(Document).where(Document.direction == direction), agency_id, actor)
    if status not in HIDDEN_STATUSES:
        base = base.where(Document.status.not_in(HIDDEN_STATUSES))
    if year is not None:
        # Unnumbered documents (arrived and waiting for registration, drafts) have no register year yet: they
        # belong to the year they were created in, or the clerk's list would never show what waits for them.
        start, end = (dt.datetime(y, 1, 1, tzinfo=VN_TZ).astimezone(dt.UTC) for y in (year, year + 1))
        base = base.where(or_(Document.year == year, and_(
            Document.year.is_(None), Document.created_at >= start, Document.created_at < end)))
    if status is not None:
        base = base.where(Document.status == status)
    if register_id is not None:
        base = base.where(Document.register_id == register_id)
    if updated_since is not None:
        base = base.where(Document.updated_at >= updated_since)
    total = db.session.scalar(select(func.count()).select_from(base.order_by(None).subquery())) or 0
    rows = db.session.scalars(
        base.options(selectinload(Document.doc_type), selectinload(Document.coordinating_departments))
        .order_by(Document.id.desc()).limit(limit).offset(offset)
    ).all()
    items = tuple(document_info(r, with_attachments=False) for r in rows)
    return DocumentPage(items=items, total=int(total), limit=limit, offset=offset)


def _visible_attachment(agency_id: int, attachment_id: int, actor: ActorRef) -> Attachment:
    row = db.session.get(Attachment, attachment_id)
    if row is None:
        raise NotFoundError("Không tìm thấy tệp đính kèm")
    get_document(agency_id, row.document_id, actor)  # same visibility as the document
    return row


def attachment_bytes(agency_id: int, attachment_id: int, actor: ActorRef,
                     *, storage: Storage | None = None) -> tuple[AttachmentInfo, bytes]:
    """A file of a document the actor may see, with its description (whole, in memory: exports, tests)."""
    row = _visible_attachment(agency_id, attachment_id, actor)
    return attachment_info(row), (storage or default_storage()).get(row.storage_key)


def attachment_stream(agency_id: int, attachment_id: int, actor: ActorRef,
                      *, storage: Storage | None = None) -> tuple[AttachmentInfo, BlobStream]:
    """A file of a document the actor may see, opened for streaming (downloads); a missing blob names the row."""
    row = _visible_attachment(agency_id, attachment_id, actor)
    return attachment_info(row), open_blob(row.storage_key, ref=f"attachment {row.id}", storage=storage)


# -- printed registers (Phụ lục IV) ------------------------------------------------------------
INCOMING_COLUMNS = ["Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu văn bản", "Ngày tháng văn bản",
                    "Tên loại và trích yếu nội dung", "Đơn vị hoặc người nhận", "Ngày chuyển", "Ký nhận", "Ghi chú"]
OUTGOING_COLUMNS = ["Số, ký hiệu văn bản", "Ngày tháng văn bản", "Tên loại và trích yếu nội dung", "Người ký",
                    "Nơi nhận văn bản", "Đơn vị, người nhận bản lưu", "Số lượng bản", "Ngày chuyển", "Ký nhận",
                    "Ghi chú"]
FOLLOWUP_COLUMNS = ["Số đến", "Tên loại, số, ký hiệu, ngày tháng, cơ quan ban hành", "Đơn vị hoặc người nhận",
                    "Thời hạn giải quyết", "Tiến độ giải quyết", "Số, ký hiệu văn bản trả lời", "Ghi chú"]
REGISTER_TITLES = {
    "incoming": "Sổ đăng ký văn bản đến",
    "outgoing": "Sổ đăng ký văn bản đi",
    "incoming_followup": "Sổ theo dõi giải quyết văn bản đến",
}


def _d(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        from app.core.clock import VN_TZ

        value = value.astimezone(VN_TZ).date()
    return value.strftime("%d/%m/%Y")


def _type_and_summary(doc: Document) -> str:
    name = doc.doc_type.name if doc.doc_type else ""
    return f"{name}: {doc.summary}" if name else doc.summary


def register_rows(agency_id: int, year: int, kind: str) -> list[list[str]]:
    """The lines of a register, in number order, as the printed book shows them."""
    if kind not in REGISTER_TITLES:
        raise ValidationError("Loại sổ không hợp lệ", field_errors={"kind": ["Giá trị không hợp lệ"]})
    direction = "outgoing" if kind == "outgoing" else "incoming"
    docs = db.session.scalars(
        select(Document)
        .where(Document.agency_id == agency_id, Document.direction == direction, Document.year == year,
               Document.number.is_not(None))
        .options(selectinload(Document.doc_type), selectinload(Document.coordinating_departments))
        .order_by(Document.register_id, Document.number)
    ).all()
    departments = _department_names(agency_id)
    replies = _replies(agency_id, [d.id for d in docs]) if kind == "incoming_followup" else {}
    rows: list[list[str]] = []
    for doc in docs:
        receiver = departments.get(doc.lead_department_id or 0, "")
        if kind == "incoming":
            note = "; ".join(filter(None, [
                f"Nhập bù (vào sổ ngày {_d(doc.registered_at)})" if doc.back_entered else "", doc.note or "",
            ]))
            rows.append([_d(doc.received_at or doc.arrival_date), format_number(doc.number or 0),
                         doc.issuer_name or "", doc.number_notation or "", _d(doc.issue_date),
                         _type_and_summary(doc), receiver, "", "", note])
        elif kind == "outgoing":
            unit = departments.get(doc.drafting_department_id or 0, "")
            rows.append([doc.number_notation or "", _d(doc.issue_date), _type_and_summary(doc),
                         doc.signer_name or "", (doc.recipients or "").replace("\n", "; "), unit,
                         str(doc.copies or ""), _d(doc.issued_at), "", doc.note or ""])
        else:
            described = ", ".join(filter(None, [doc.doc_type.name if doc.doc_type else "", doc.number_notation,
                                                _d(doc.issue_date), doc.issuer_name]))
            rows.append([format_number(doc.number or 0), described, receiver, _d(doc.due_date),
                         STATUS_LABELS.get(doc.status, doc.status), replies.get(doc.id, ""), doc.note or ""])
    return rows


def _department_names(agency_id: int) -> dict[int, str]:
    from app.tenancy.models import Department

    rows = db.session.execute(select(Department.id, Department.name).where(Department.agency_id == agency_id))
    return {row.id: row.name for row in rows}


def _replies(agency_id: int, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    out: dict[int, list[str]] = {}
    for source_id, notation in db.session.execute(
        select(Document.source_document_id, Document.number_notation).where(
            Document.agency_id == agency_id, Document.direction == "outgoing",
            Document.source_document_id.in_(ids), Document.number_notation.is_not(None))
    ):
        out.setdefault(source_id, []).append(notation)
    return {k: ", ".join(v) for k, v in out.items()}


def register_pdf(agency_id: int, year: int, kind: str) -> bytes:
    """The register of ``year`` printed with the Phụ lục IV columns (A4 landscape), ready to sign and bind."""
    from app.tenancy.models import Agency

    rows = register_rows(agency_id, year, kind)
    agency = db.session.get(Agency, agency_id)
    columns = {"incoming": INCOMING_COLUMNS, "outgoing": OUTGOING_COLUMNS,
               "incoming_followup": FOLLOWUP_COLUMNS}[kind]
    numbers = [r[1] if kind == "incoming" else r[0] for r in rows]
    span = f"; từ số {numbers[0]} đến số {numbers[-1]}" if numbers and kind != "outgoing" else ""
    subtitle = f"{agency.name if agency else ''} – Năm {year}{span}"
    return render_table_report(f"{REGISTER_TITLES[kind]}", columns, rows, landscape=True, subtitle=subtitle)


@dataclass(frozen=True)
class RegisterInfo:
    id: int
    kind: str
    year: int
    name: str
    type_scope: str
    next_number: int
    created_at: dt.datetime


def registers_of(agency_id: int, *, year: int | None = None, kind: str | None = None) -> list[RegisterInfo]:
    """The agency's registers (sổ), newest year first."""
    stmt = select(Register).where(Register.agency_id == agency_id)
    if year is not None:
        stmt = stmt.where(Register.year == year)
    if kind is not None:
        stmt = stmt.where(Register.kind == kind)
    rows = db.session.scalars(stmt.order_by(Register.year.desc(), Register.kind, Register.id))
    return [RegisterInfo(id=r.id, kind=r.kind, year=r.year, name=r.name, type_scope=r.type_scope,
                         next_number=r.next_number, created_at=r.created_at) for r in rows]


def documents_by_ids(agency_id: int, ids: list[int]) -> list[DocumentInfo]:
    """Short descriptions for inbox rows (the inbox already checked who may act on each task)."""
    if not ids:
        return []
    rows = db.session.scalars(
        select(Document).where(Document.agency_id == agency_id, Document.id.in_(ids))
        .options(joinedload(Document.doc_type), selectinload(Document.coordinating_departments), raiseload("*"))
    ).unique()
    return [document_info(r, with_attachments=False) for r in rows]


def deliveries_for(agency_id: int, document_id: int, actor: ActorRef) -> list[DeliveryInfo]:
    """Each recipient of an issued document with its status history, for the issuing agency's staff."""
    stmt = _visible(select(Document.id).where(Document.id == document_id), agency_id, actor)
    if db.session.scalar(stmt) is None:
        raise NotFoundError("Không tìm thấy văn bản hoặc bạn không có quyền xem văn bản này")
    rows = deliveries.deliveries_of(document_id)
    events = deliveries.events_of([r.id for r in rows])
    exchange_id = db.session.scalar(select(Document.exchange_document_id).where(Document.id == document_id))
    travelling = transmissions_of(exchange_id or "")
    return [DeliveryInfo(recipient_code=r.recipient_code, recipient_name=r.recipient_name, status=r.status,
                         label=deliveries.label(r.status), status_at=r.status_at, reason=r.reason,
                         events=tuple(DeliveryEventInfo(status=e.status, label=deliveries.label(e.status), at=e.at,
                                                        actor_name=e.actor_name, note=e.note)
                                      for e in events[r.id]),
                         transmission=travelling.get(r.recipient_org_id or ""))
            for r in rows]


def revisions_for(agency_id: int, document_id: int, actor: ActorRef) -> list[RevisionInfo]:
    """Every submitted version of a draft, oldest first, with the files it had at that round."""
    stmt = _visible(select(Document.id).where(Document.id == document_id), agency_id, actor)
    if db.session.scalar(stmt) is None:
        raise NotFoundError("Không tìm thấy văn bản hoặc bạn không có quyền xem văn bản này")
    rows = list(db.session.scalars(select(DocumentRevision).where(DocumentRevision.document_id == document_id)
                                   .order_by(DocumentRevision.number)))
    ids = sorted({i for r in rows for i in (r.attachment_ids or ())})
    files = {a.id: attachment_info(a) for a in db.session.scalars(
        select(Attachment).where(Attachment.id.in_(ids), Attachment.document_id == document_id))} if ids else {}
    users = sorted({r.by_user_id for r in rows if r.by_user_id})
    names = dict(db.session.execute(select(Staff.user_id, Staff.full_name).where(
        Staff.user_id.in_(users), Staff.agency_id == agency_id)).all()) if users else {}
    return [RevisionInfo(number=r.number, kind=r.kind, at=r.at, by_name=names.get(r.by_user_id),
                         summary=r.summary, body=r.body, recipients=r.recipients, signer_name=r.signer_name,
                         comment=r.comment, files=tuple(files[i] for i in (r.attachment_ids or ()) if i in files),
                         new_file_ids=tuple(r.new_attachment_ids or ()))
            for r in rows]
