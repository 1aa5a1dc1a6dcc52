"""Functions that change documents. They flush, never commit: the request or job boundary commits.

Every registration is one transaction: refusal check, duplicate check, number, row, files, workflow
start and its first task. If any step fails the caller rolls back and the number is not consumed
(the register counter is rolled back with the rest; see numbering.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app.core import clock, signals
from app.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from app.core.text import fold, nfc, nfc_any
from app.extensions import db
from app.tenancy.models import Agency, Department, Staff
from app.workflow import queries as wf_queries
from app.workflow import services as wf
from app.workflow.info import ActorRef

from . import numbering
from .attachments import CheckedFile, UploadInfo, check_files, new_attachment
from .errors import DocumentStateError, DuplicateDocumentError
from .info import DocumentInfo, document_info
from .models import CHANNELS, URGENCIES, Attachment, Document, DocumentType
from .refusals import check_admissible
from .settings import max_upload_bytes
from .signatures import verify_attachment
from .storage import Storage, default_storage

INCOMING_PROCESS = "incoming"
OUTGOING_PROCESS = "outgoing"
REGISTER_TASK = "register"
DRAFT_TASK = "draft"
MAX_SUMMARY = 2000
REGISTERING_ROLES = frozenset({"clerk"})


@dataclass(frozen=True)
class BackEntryItem:
    """One document received during an outage (Art 6.2 QĐ 52/2014): its data, files and true receipt time."""

    data: Mapping[str, Any]
    received_at: dt.datetime
    files: tuple[UploadInfo, ...] = ()
    confirm_duplicate: bool = False


# -- input ---------------------------------------------------------------------------------
class _Input:
    """Collects every field error at once, so the clerk fixes the form in one go."""

    def __init__(self, data: Mapping[str, Any]):
        self.data = nfc_any(dict(data))
        self.errors: dict[str, list[str]] = {}

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def text(self, name: str, *, required: bool = False, max_length: int = 255) -> str | None:
        raw = self.data.get(name)
        value = nfc(str(raw).strip()) if raw not in (None, "") else None
        if value is None:
            if required:
                self.error(name, "Không được để trống")
            return None
        if len(value) > max_length:
            self.error(name, f"Không quá {max_length} ký tự")
        return value

    def date(self, name: str, *, required: bool = False) -> dt.date | None:
        raw = self.data.get(name)
        if raw in (None, ""):
            if required:
                self.error(name, "Không được để trống")
            return None
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return dt.datetime.strptime(str(raw).strip(), fmt).date()
            except ValueError:
                continue
        self.error(name, "Ngày không hợp lệ (dd/mm/yyyy)")
        return None

    def integer(self, name: str, *, minimum: int = 0, maximum: int = 100000) -> int | None:
        raw = self.data.get(name)
        if raw in (None, ""):
            return None
        try:
            value = int(raw)
        except (TypeError, ValueError):
            self.error(name, "Phải là số nguyên")
            return None
        if not minimum <= value <= maximum:
            self.error(name, f"Phải từ {minimum} đến {maximum}")
        return value

    def choice(self, name: str, allowed: Sequence[str], default: str) -> str:
        value = str(self.data.get(name) or default)
        if value not in allowed:
            self.error(name, "Giá trị không hợp lệ")
            return default
        return value

    def ids(self, name: str) -> list[int]:
        raw = self.data.get(name) or []
        if isinstance(raw, str | int):
            raw = [raw]
        out = []
        for item in raw:
            try:
                out.append(int(item))
            except (TypeError, ValueError):
                self.error(name, "Giá trị không hợp lệ")
        return out

    def codes(self, name: str) -> list[str]:
        raw = self.data.get(name) or []
        if isinstance(raw, str):
            raw = [c for c in raw.replace(",", " ").split() if c]
        return [str(c).strip() for c in raw if str(c).strip()]

    def raise_if_any(self, message: str) -> None:
        if self.errors:
            raise ValidationError(message, field_errors=self.errors)


def _doc_type(inp: _Input, *, required: bool) -> DocumentType | None:
    raw = inp.data.get("doc_type") or inp.data.get("doc_type_code") or inp.data.get("doc_type_id")
    if raw in (None, ""):
        if required:
            inp.error("doc_type", "Chọn loại văn bản")
        return None
    stmt = select(DocumentType).where(DocumentType.active.is_(True))
    if isinstance(raw, int) or str(raw).isdigit():
        stmt = stmt.where(DocumentType.id == int(raw))
    else:
        stmt = stmt.where(DocumentType.code == str(raw))
    row = db.session.scalar(stmt)
    if row is None:
        inp.error("doc_type", "Loại văn bản không có trong danh mục")
    return row


def _departments(agency_id: int, ids: Iterable[int], inp: _Input, field: str) -> list[Department]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    rows = list(db.session.scalars(select(Department).where(Department.agency_id == agency_id,
                                                              Department.id.in_(wanted))))
    if len(rows) != len(wanted):
        inp.error(field, "Đơn vị không thuộc cơ quan")
    return rows


def _require(actor: ActorRef, agency_id: int, roles: frozenset[str], what: str) -> None:
    if actor.agency_id != agency_id:
        raise PermissionDeniedError("Không thể thao tác trên văn bản của cơ quan khác")
    if roles and not roles & actor.roles:
        raise PermissionDeniedError(f"Chỉ văn thư của cơ quan được {what}")


def _workflow_data(doc: Document, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the diagram sees: short values only (the workflow stores no document content)."""
    data: dict[str, Any] = {
        "document_id": doc.id,
        "summary": doc.summary[:500],
        "urgency": doc.urgency,
    }
    if doc.number is not None:
        data["number"] = doc.number
    if doc.number_notation:
        data["number_notation"] = doc.number_notation
    if doc.due_date:
        data["due_date"] = doc.due_date.isoformat()
    if extra:
        data.update({k: v for k, v in extra.items() if isinstance(v, str | int | float | bool | type(None))})
    return data


# -- search --------------------------------------------------------------------------------
def refresh_search_text(doc: Document) -> None:
    """Fold every field and the files' text into one diacritic-free string (search reads it)."""
    parts = [
        doc.number_notation, doc.summary, doc.issuer_name, doc.signer_name, doc.signer_position, doc.recipients,
        doc.body, doc.note, doc.doc_type.name if doc.doc_type else None,
        str(doc.number) if doc.number is not None else None,
    ]
    parts.extend(a.text_content for a in doc.attachments if a.kind != "signed")
    doc.search_text = fold(" ".join(p for p in parts if p))


# -- files ---------------------------------------------------------------------------------
def _check(files: Sequence[UploadInfo]) -> list[CheckedFile]:
    return check_files(files, max_bytes=max_upload_bytes())


def _attach(doc: Document, files: Sequence[UploadInfo], checked: Sequence[CheckedFile], *, storage: Storage,
            by_user_id: int | None, verify: bool) -> None:
    for upload, info in zip(files, checked, strict=True):
        row = new_attachment(info, upload.data, storage=storage, kind=upload.kind, uploaded_by_id=by_user_id)
        doc.attachments.append(row)
        if verify and info.content_type == "application/pdf":
            verify_attachment(row, upload.data)
    _summarise_signatures(doc)


def _summarise_signatures(doc: Document) -> None:
    checked = [a for a in doc.attachments if a.verification_status not in (None, "unsigned")]
    if not checked:
        return
    from .signatures import worst_status

    status, label = worst_status([(a.verification_status or "", a.verification_label or "") for a in checked])
    doc.signature_status, doc.signature_label = status, label
    doc.signature_checked_at = clock.now()


# -- duplicates ----------------------------------------------------------------------------
def _find_duplicate(agency_id: int, number_notation: str, issuer_name: str, issuer_org_id: str | None,
                    issue_date: dt.date, *, exclude_id: int | None = None) -> Document | None:
    """Same number/notation, same issuing body, same year (Phụ lục VI, III.1.h)."""
    year_start, year_end = dt.date(issue_date.year, 1, 1), dt.date(issue_date.year, 12, 31)
    stmt = select(Document).where(
        Document.agency_id == agency_id,
        Document.direction == "incoming",
        func.lower(Document.number_notation) == number_notation.lower(),
        Document.issue_date.between(year_start, year_end),
    )
    if exclude_id is not None:
        stmt = stmt.where(Document.id != exclude_id)
    key = fold(issuer_name)
    for row in db.session.scalars(stmt.order_by(Document.id)):
        if issuer_org_id and row.issuer_org_id:
            if row.issuer_org_id == issuer_org_id:
                return row
        elif fold(row.issuer_name) == key:
            return row
    return None


def _raise_duplicate(earlier: Document, number_notation: str, issuer_name: str) -> None:
    raise DuplicateDocumentError(
        earlier_id=earlier.id,
        earlier_number=earlier.number,
        earlier_registered_at=earlier.registered_at or earlier.created_at,
        number_notation=number_notation,
        issuer_name=issuer_name,
    )


# -- incoming ------------------------------------------------------------------------------
def _incoming_fields(agency_id: int, inp: _Input) -> dict[str, Any]:
    doc_type = _doc_type(inp, required=False)
    lead = inp.integer("lead_department_id", minimum=1, maximum=2**31 - 1)
    fields = {
        "doc_type": doc_type,
        "number_notation": inp.text("number_notation", required=True, max_length=80),
        "issuer_name": inp.text("issuer_name", required=True),
        "issuer_org_id": inp.text("issuer_org_id", max_length=32),
        "issue_date": inp.date("issue_date", required=True),
        "summary": inp.text("summary", required=True, max_length=MAX_SUMMARY),
        "signer_name": inp.text("signer_name", max_length=120),
        "signer_position": inp.text("signer_position", max_length=120),
        "pages": inp.integer("pages", minimum=0, maximum=10000),
        "copies": inp.integer("copies", minimum=0, maximum=10000),
        "urgency": inp.choice("urgency", URGENCIES, "thuong"),
        "channel": inp.choice("channel", CHANNELS, "paper"),
        "recipients": inp.text("recipients", max_length=1000),
        "due_date": inp.date("due_date"),
        "note": inp.text("note", max_length=2000),
        "lead_department": _departments(agency_id, [lead] if lead else [], inp, "lead_department_id"),
        "coordinating": _departments(agency_id, inp.ids("coordinating_department_ids"), inp,
                                     "coordinating_department_ids"),
    }
    if fields["issue_date"] and fields["issue_date"] > clock.today():
        inp.error("issue_date", "Ngày văn bản không được sau ngày hôm nay")
    return fields


def _receipt_time(inp: _Input, back_entry_received_at: dt.datetime | dt.date | None) -> tuple[dt.datetime, bool]:
    now = clock.now()
    raw: Any = back_entry_received_at
    if raw is None:
        return now, False
    if isinstance(raw, str):
        try:
            raw = dt.datetime.fromisoformat(raw)
        except ValueError:
            inp.error("received_at", "Thời điểm nhận không hợp lệ")
            return now, False
    if not isinstance(raw, dt.datetime):  # a bare date: the clerk knows the day, not the hour
        raw = dt.datetime.combine(raw, dt.time(0, 0), tzinfo=clock.VN_TZ)
    elif raw.tzinfo is None:
        raw = raw.replace(tzinfo=clock.VN_TZ)
    if raw > now:
        inp.error("received_at", "Thời điểm nhận không được ở tương lai")
    return raw, True


def _apply_incoming(doc: Document, fields: Mapping[str, Any]) -> None:
    doc.doc_type = fields["doc_type"]
    for name in ("number_notation", "issuer_name", "issuer_org_id", "issue_date", "summary", "signer_name",
                 "signer_position", "pages", "copies", "urgency", "channel", "recipients", "due_date", "note"):
        value = fields[name]
        if value is not None or name in ("note",):
            setattr(doc, name, value)
    if fields["lead_department"]:
        doc.lead_department_id = fields["lead_department"][0].id
    if fields["coordinating"]:
        doc.coordinating_departments = list(fields["coordinating"])


def _incoming_register(agency_id: int, received_at: dt.datetime) -> int:
    """Open (or create) the year's register first: a clerk creating it makes the others wait here,
    before they hold any lock of their own (creating it later could deadlock on PostgreSQL)."""
    return numbering.ensure_register(agency_id, "incoming", received_at.astimezone(clock.VN_TZ).year)


def _number_incoming(doc: Document, received_at: dt.datetime) -> None:
    year = received_at.astimezone(clock.VN_TZ).year
    register_id = _incoming_register(doc.agency_id, received_at)
    with db.session.no_autoflush:  # draw before this document's row references the register
        number = numbering.draw_number(register_id)
    doc.register_id, doc.year, doc.number = register_id, year, number


def _open_task(instance_id: int, bpmn_id: str) -> Any:
    for task in wf_queries.open_tasks(instance_id):
        if task.bpmn_id == bpmn_id:
            return task
    raise DocumentStateError(f"Văn bản không ở bước «{bpmn_id}» của quy trình")


def _task_form_data(fields: Mapping[str, Any], doc: Document) -> dict[str, Any]:
    out: dict[str, Any] = {
        "summary": doc.summary[:500],
        "urgency": doc.urgency,
        "number": doc.number,
        "number_notation": doc.number_notation,
        "issuer_name": doc.issuer_name,
        "channel": doc.channel,
        "back_entered": doc.back_entered,
    }
    if doc.due_date:
        out["due_date"] = doc.due_date.isoformat()
    if doc.lead_department_id:
        out["lead_department_id"] = doc.lead_department_id
    return out


def register_incoming(
    agency_id: int,
    *,
    actor: ActorRef,
    data: Mapping[str, Any],
    files: Sequence[UploadInfo] = (),
    confirm_duplicate: bool = False,
    back_entry_received_at: dt.datetime | dt.date | None = None,
    storage: Storage | None = None,
) -> DocumentInfo:
    """Register (vào sổ) a document received on paper, by e-mail or another channel (Điều 22).

    ``data`` keys: doc_type (code), number_notation, issuer_name, issuer_org_id, issue_date, summary,
    signer_name, signer_position, pages, copies, urgency, channel, recipients, due_date, note,
    lead_department_id, coordinating_department_ids, confidentiality, kind. ``back_entry_received_at``
    is the true receipt time of a document received during an outage (Art 6.2): it decides the year,
    and the document is marked ``back_entered``.
    """
    _require(actor, agency_id, REGISTERING_ROLES, "vào sổ văn bản đến")
    inp = _Input(data)
    check_admissible({**inp.data, "type_name": _type_name(inp.data)})
    fields = _incoming_fields(agency_id, inp)
    received_at, back_entered = _receipt_time(inp, back_entry_received_at)
    inp.raise_if_any("Thông tin văn bản đến chưa hợp lệ")
    checked = _check(files)
    if not confirm_duplicate:
        earlier = _find_duplicate(agency_id, fields["number_notation"], fields["issuer_name"],
                                  fields["issuer_org_id"], fields["issue_date"])
        if earlier is not None:
            _raise_duplicate(earlier, fields["number_notation"], fields["issuer_name"])

    now = clock.now()
    doc = Document(agency_id=agency_id, direction="incoming", status="registered", confidentiality="thuong",
                   received_at=received_at, arrival_date=received_at.astimezone(clock.VN_TZ).date(),
                   registered_at=now, back_entered=back_entered, created_by_id=actor.user_id, created_at=now,
                   updated_at=now, recipient_agency_codes=[])
    _apply_incoming(doc, fields)
    db.session.add(doc)
    # The number is drawn first, before any other row of the transaction is locked: clerks then queue
    # on the register row alone (drawing it last deadlocked on PostgreSQL with 20 concurrent clerks).
    _number_incoming(doc, received_at)
    db.session.flush()
    _attach(doc, files, checked, storage=storage or default_storage(), by_user_id=actor.user_id, verify=True)
    refresh_search_text(doc)
    db.session.flush()
    instance = wf.start_instance(agency_id, INCOMING_PROCESS, subject_type="incoming", subject_id=doc.id,
                                 data=_workflow_data(doc), actor=actor)
    task = _open_task(instance.id, REGISTER_TASK)
    wf.complete_task(task.id, actor, _task_form_data(fields, doc))
    signals.document_registered.send(None, document_id=doc.id, agency_id=agency_id)
    return document_info(doc, instance_id=instance.id)


def _type_name(data: Mapping[str, Any]) -> str:
    code = data.get("doc_type") or data.get("doc_type_code")
    if not code or not isinstance(code, str):
        return ""
    return db.session.scalar(select(DocumentType.name).where(DocumentType.code == code)) or ""


def register_backlog(
    agency_id: int, *, actor: ActorRef, items: Sequence[BackEntryItem], storage: Storage | None = None
) -> list[DocumentInfo]:
    """Register documents received during an outage, in order of their true receipt time (Art 6.2).

    They take the register's next numbers: numbers already given are never changed, the register
    stays gap-free, and its printed lines show the true receipt date with the mark "nhập bù".
    """
    ordered = sorted(items, key=lambda item: _aware(item.received_at))
    return [
        register_incoming(agency_id, actor=actor, data=item.data, files=item.files,
                          confirm_duplicate=item.confirm_duplicate, back_entry_received_at=item.received_at,
                          storage=storage)
        for item in ordered
    ]


def _aware(value: dt.datetime | dt.date) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(0, 0), tzinfo=clock.VN_TZ)
    return value if value.tzinfo else value.replace(tzinfo=clock.VN_TZ)


def _locked_document(document_id: int) -> Document:
    doc = db.session.execute(
        select(Document).where(Document.id == document_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if doc is None:
        raise NotFoundError("Không tìm thấy văn bản")
    return doc


def register_received(
    document_id: int, *, actor: ActorRef, data: Mapping[str, Any] | None = None, confirm_duplicate: bool = False
) -> DocumentInfo:
    """Register an electronically delivered document waiting at the ``register`` step: number it,
    let the clerk correct the fields, and complete that step."""
    doc = _locked_document(document_id)
    _require(actor, doc.agency_id, REGISTERING_ROLES, "vào sổ văn bản đến")
    if doc.status != "awaiting_registration":
        raise DocumentStateError("Văn bản này đã được vào sổ")
    current = {
        "doc_type": doc.doc_type.code if doc.doc_type else None, "number_notation": doc.number_notation,
        "issuer_name": doc.issuer_name, "issuer_org_id": doc.issuer_org_id, "issue_date": doc.issue_date,
        "summary": doc.summary, "signer_name": doc.signer_name, "signer_position": doc.signer_position,
        "pages": doc.pages, "urgency": doc.urgency, "channel": doc.channel or "electronic",
        "recipients": doc.recipients, "due_date": doc.due_date,
    }
    merged = {**current, **{k: v for k, v in dict(data or {}).items() if v not in (None, "")}}
    inp = _Input(merged)
    check_admissible({**inp.data, "type_name": _type_name(inp.data)})
    fields = _incoming_fields(doc.agency_id, inp)
    inp.raise_if_any("Thông tin văn bản đến chưa hợp lệ")
    if not confirm_duplicate:
        earlier = _find_duplicate(doc.agency_id, fields["number_notation"], fields["issuer_name"],
                                  fields["issuer_org_id"], fields["issue_date"], exclude_id=doc.id)
        if earlier is not None:
            _raise_duplicate(earlier, fields["number_notation"], fields["issuer_name"])
    _apply_incoming(doc, fields)
    received_at = doc.received_at or clock.now()
    _number_incoming(doc, clock.now())  # numbered in the order the clerk registers it (Điều 22.2)
    doc.received_at = received_at
    doc.registered_at = clock.now()
    doc.status = "registered"
    doc.updated_at = clock.now()
    refresh_search_text(doc)
    db.session.flush()
    instance = _instance_for(doc)
    task = _open_task(instance, REGISTER_TASK)
    wf.complete_task(task.id, actor, _task_form_data(fields, doc))
    signals.document_registered.send(None, document_id=doc.id, agency_id=doc.agency_id)
    return document_info(doc, instance_id=instance)


def _instance_for(doc: Document) -> int:
    instances = wf_queries.instances_for_subject(doc.direction, doc.id, agency_id=doc.agency_id)
    if not instances:
        raise DocumentStateError("Văn bản chưa có quy trình xử lý")
    return instances[-1].id


# -- outgoing ------------------------------------------------------------------------------
def create_outgoing_draft(
    agency_id: int,
    *,
    actor: ActorRef,
    data: Mapping[str, Any],
    files: Sequence[UploadInfo] = (),
    source_document_id: int | None = None,
    storage: Storage | None = None,
    complete_draft: bool = True,
) -> DocumentInfo:
    """Create an outgoing draft, start the agency's ``outgoing`` process and (by default) submit the
    ``draft`` step, so it goes to the head of department for review.

    ``data`` keys: doc_type (code), summary, body, recipients, recipient_agency_codes, urgency,
    signer_id (the leader who will sign), signer_position, due_date, pages.
    """
    if actor.agency_id != agency_id:
        raise PermissionDeniedError("Không thể soạn văn bản cho cơ quan khác")
    inp = _Input(data)
    check_admissible({**inp.data, "type_name": _type_name(inp.data)})
    doc_type = _doc_type(inp, required=True)
    summary = inp.text("summary", required=True, max_length=MAX_SUMMARY)
    body = inp.text("body", max_length=200_000)
    recipients = inp.text("recipients", max_length=4000)
    codes = inp.codes("recipient_agency_codes")
    urgency = inp.choice("urgency", URGENCIES, "thuong")
    due_date = inp.date("due_date")
    pages = inp.integer("pages", minimum=0, maximum=10000)
    signer_id = inp.integer("signer_id", minimum=1, maximum=2**31 - 1)
    signer = _signer(agency_id, signer_id, inp) if signer_id else None
    if codes:
        known = set(db.session.scalars(select(Agency.code).where(Agency.code.in_(codes), Agency.active.is_(True))))
        unknown = [c for c in codes if c not in known]
        if unknown:
            inp.error("recipient_agency_codes", "Không có cơ quan: " + ", ".join(unknown))
    inp.raise_if_any("Thông tin dự thảo chưa hợp lệ")
    checked = _check(files)
    now = clock.now()
    doc = Document(
        agency_id=agency_id, direction="outgoing", status="draft", confidentiality="thuong", doc_type=doc_type,
        summary=summary or "", body=body, recipients=recipients, recipient_agency_codes=list(dict.fromkeys(codes)),
        urgency=urgency, due_date=due_date, pages=pages, signer_user_id=signer.user_id if signer else None,
        signer_name=signer.full_name if signer else None,
        signer_position=inp.text("signer_position", max_length=120) or (
            signer.position.name if signer and signer.position else None),
        drafting_department_id=actor.department_id, source_document_id=source_document_id,
        created_by_id=actor.user_id, created_at=now, updated_at=now, back_entered=False,
    )
    db.session.add(doc)
    db.session.flush()
    _attach(doc, files, checked, storage=storage or default_storage(), by_user_id=actor.user_id, verify=False)
    refresh_search_text(doc)
    db.session.flush()
    extra = {"signer_id": doc.signer_user_id, "source_document_id": source_document_id}
    instance = wf.start_instance(agency_id, OUTGOING_PROCESS, subject_type="outgoing", subject_id=doc.id,
                                 data=_workflow_data(doc, extra), actor=actor)
    if complete_draft:
        task = _open_task(instance.id, DRAFT_TASK)
        form = {"doc_type": doc_type.code if doc_type else None, "summary": doc.summary[:500],
                "urgency": urgency, "signer_id": doc.signer_user_id,
                "recipient_agency_codes": list(doc.recipient_agency_codes)}
        wf.complete_task(task.id, actor, form)
        doc.status = "in_review"
    return document_info(doc, instance_id=instance.id)


def _signer(agency_id: int, user_id: int, inp: _Input) -> Staff | None:
    staff = db.session.scalar(select(Staff).where(Staff.user_id == user_id, Staff.agency_id == agency_id))
    if staff is None:
        inp.error("signer_id", "Người ký không thuộc cơ quan")
    return staff


def issue_outgoing(
    document_id: int, *, issue_date: dt.date | str | None = None, copies: int | None = None
) -> DocumentInfo:
    """Number (cấp số) and register an approved outgoing document (Điều 15, 16); idempotent per document."""
    doc = _locked_document(document_id)
    if doc.direction != "outgoing":
        raise DocumentStateError("Chỉ văn bản đi mới được cấp số")
    if doc.number is not None:
        return document_info(doc)  # a retried service task must not take a second number
    inp = _Input({"issue_date": issue_date, "copies": copies})
    day = inp.date("issue_date") or clock.today()
    n_copies = inp.integer("copies", minimum=0, maximum=10000)
    inp.raise_if_any("Thông tin ban hành chưa hợp lệ")
    agency = db.session.get(Agency, doc.agency_id)
    assert agency is not None
    unit = db.session.get(Department, doc.drafting_department_id) if doc.drafting_department_id else None
    register_id = numbering.ensure_register(doc.agency_id, "outgoing", day.year, doc.doc_type)
    number = numbering.draw_number(register_id)
    doc.register_id, doc.year, doc.number = register_id, day.year, number
    doc.notation = numbering.outgoing_notation(
        type_abbreviation=doc.doc_type.abbreviation if doc.doc_type else None,
        agency_abbreviation=agency.abbreviation,
        unit_abbreviation=unit.abbreviation if unit else None,
    )
    doc.number_notation = numbering.number_notation(doc.number, doc.notation)
    doc.issue_date = day
    doc.issuer_name = agency.name
    doc.issuer_org_id = agency.org_identifier or agency.code
    if n_copies is not None:
        doc.copies = n_copies
    doc.issued_at = clock.now()
    doc.updated_at = doc.issued_at
    doc.status = "issued"
    refresh_search_text(doc)
    db.session.flush()
    signals.document_issued.send(None, document_id=doc.id, agency_id=doc.agency_id)
    return document_info(doc)


def deliver_outgoing(document_id: int) -> list[int]:
    """Send an issued document to the province's agencies named as recipients (liên thông).

    Each gets an incoming document awaiting registration, with the same files (same blobs), and its
    own ``incoming`` process, so the ``register`` step appears in its clerks' inbox. Returns their ids.
    """
    doc = _locked_document(document_id)
    if doc.status not in ("issued", "delivered") or doc.number is None:
        raise DocumentStateError("Văn bản chưa được cấp số, chưa thể gửi")
    already = set(db.session.scalars(select(Document.agency_id).where(Document.source_document_id == doc.id,
                                                                      Document.direction == "incoming")))
    targets = list(db.session.scalars(
        select(Agency).where(Agency.code.in_(doc.recipient_agency_codes or []), Agency.active.is_(True),
                             Agency.id != doc.agency_id)
    ))
    sender_user = doc.created_by_id
    created: list[int] = []
    now = clock.now()
    for target in sorted(targets, key=lambda a: a.id):
        if target.id in already:
            continue
        incoming = Document(
            agency_id=target.id, direction="incoming", status="awaiting_registration", confidentiality="thuong",
            doc_type_id=doc.doc_type_id, number_notation=doc.number_notation, issuer_name=doc.issuer_name,
            issuer_org_id=doc.issuer_org_id, issue_date=doc.issue_date, summary=doc.summary,
            signer_name=doc.signer_name, signer_position=doc.signer_position, pages=doc.pages, urgency=doc.urgency,
            recipients=doc.recipients, recipient_agency_codes=[], due_date=doc.due_date, channel="electronic",
            received_at=now, back_entered=False, source_document_id=doc.id, created_at=now, updated_at=now,
            signature_status=doc.signature_status, signature_label=doc.signature_label,
            signature_checked_at=doc.signature_checked_at,
        )
        for att in _deliverable(doc):
            incoming.attachments.append(Attachment(
                filename=att.filename, content_type=att.content_type, size=att.size, sha256=att.sha256,
                storage_key=att.storage_key, kind=att.kind, page_count=att.page_count, text_content=att.text_content,
                created_at=now, verification_status=att.verification_status,
                verification_label=att.verification_label, verification_detail=att.verification_detail,
                verified_at=att.verified_at,
            ))
        db.session.add(incoming)
        db.session.flush()
        refresh_search_text(incoming)
        # The receiving agency's process is started on behalf of the sender (the only person known here).
        system = ActorRef(user_id=sender_user or 0, agency_id=target.id, roles=frozenset({"clerk"}))
        wf.start_instance(target.id, INCOMING_PROCESS, subject_type="incoming", subject_id=incoming.id,
                          data=_workflow_data(incoming, {"source_document_id": doc.id}), actor=system)
        created.append(incoming.id)
    doc.status = "delivered"
    doc.updated_at = now
    db.session.flush()
    if created:
        signals.document_delivered.send(None, document_id=doc.id, agency_id=doc.agency_id, delivered_ids=created)
    return created


def _deliverable(doc: Document) -> list[Attachment]:
    """The signed file when there is one (what the recipient must verify), else the rendered or original."""
    by_kind: dict[str, list[Attachment]] = {}
    for att in doc.attachments:
        by_kind.setdefault(att.kind, []).append(att)
    if by_kind.get("signed"):
        main = [by_kind["signed"][-1]]
    elif by_kind.get("rendered"):
        main = [by_kind["rendered"][-1]]
    else:
        main = []
    return main + by_kind.get("original", []) + by_kind.get("scan", [])


def start_reply(incoming_document_id: int, *, requested_by_user_id: int, summary: str | None) -> DocumentInfo:
    """Open an outgoing draft answering an incoming document, in the requesting specialist's inbox."""
    incoming = db.session.get(Document, incoming_document_id)
    if incoming is None or incoming.direction != "incoming":
        raise NotFoundError("Không tìm thấy văn bản đến cần trả lời")
    staff = db.session.scalar(select(Staff).where(Staff.user_id == requested_by_user_id,
                                                  Staff.agency_id == incoming.agency_id))
    if staff is None:
        raise PermissionDeniedError("Người đề nghị trả lời không thuộc cơ quan nhận văn bản")
    roles = frozenset(r.name for r in staff.user.roles) if staff.user is not None else frozenset()
    actor = ActorRef(user_id=staff.user_id, agency_id=incoming.agency_id, roles=roles | {"specialist"},
                     department_id=staff.department_id)
    text = nfc((summary or "").strip()) or f"V/v trả lời văn bản số {incoming.number_notation or ''}".strip()
    data = {"doc_type": "cong_van", "summary": text[:MAX_SUMMARY], "urgency": incoming.urgency,
            "recipients": incoming.issuer_name or "", "due_date": incoming.due_date}
    reply = create_outgoing_draft(incoming.agency_id, actor=actor, data=data, source_document_id=incoming.id,
                                  complete_draft=False)
    return reply


def record_assignment(document_id: int, *, actor: ActorRef, lead_department_id: int | None,
                      coordinating_department_ids: Sequence[int] = (), due_date: dt.date | str | None = None) -> None:
    """Copy the leader's assignment (lead and coordinating units, deadline) onto the document."""
    doc = _locked_document(document_id)
    if doc.agency_id != actor.agency_id:
        raise PermissionDeniedError("Không thể thao tác trên văn bản của cơ quan khác")
    inp = _Input({"due_date": due_date})
    day = inp.date("due_date")
    lead = _departments(doc.agency_id, [lead_department_id] if lead_department_id else [], inp, "lead_department_id")
    coordinating = _departments(doc.agency_id, coordinating_department_ids, inp, "coordinating_department_ids")
    inp.raise_if_any("Thông tin phân công chưa hợp lệ")
    doc.lead_department_id = lead[0].id if lead else None
    doc.coordinating_departments = coordinating
    if day:
        doc.due_date = day
    if doc.status == "registered":
        doc.status = "in_progress"
    doc.updated_at = clock.now()
    db.session.flush()


def set_status(document_id: int, status: str) -> None:
    """Follow the workflow (approved, done …); called by workflow hooks and operations."""
    doc = _locked_document(document_id)
    doc.status = status
    doc.updated_at = clock.now()
    db.session.flush()
