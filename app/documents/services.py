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

from sqlalchemy import select

from app.core import clock, signals
from app.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from app.core.text import fold, nfc, nfc_any, notation_key
from app.extensions import db
from app.tenancy.models import Agency, Department, Staff
from app.workflow import queries as wf_queries
from app.workflow import services as wf
from app.workflow.info import ActorRef
from app.workflow.steps import kind_label

from . import deliveries, numbering
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


def needs_signature_reason(signature_status: str | None) -> bool:
    """A delivered copy whose signatures did not verify is registered only with the clerk's reason."""
    return signature_status not in (None, "valid", "unsigned")


# -- duplicates ----------------------------------------------------------------------------
def _find_duplicate(agency_id: int, number_notation: str, issuer_name: str, issuer_org_id: str | None,
                    issue_date: dt.date, *, exclude_id: int | None = None) -> Document | None:
    """Same number/notation, same issuing body, same year (Phụ lục VI, III.1.h)."""
    year_start, year_end = dt.date(issue_date.year, 1, 1), dt.date(issue_date.year, 12, 31)
    stmt = select(Document).where(
        Document.agency_id == agency_id,
        Document.direction == "incoming",
        Document.notation_key == notation_key(number_notation),
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


def _open_task(instance_id: int, process_key: str, kind: str) -> Any:
    """The instance's open step of ``kind`` (step kinds, workflow/steps.py; never an element id)."""
    for task in wf_queries.open_tasks(instance_id):
        if task.step_kind == kind:
            return task
    label = kind_label(process_key, kind) or kind
    raise DocumentStateError(f"Văn bản không ở bước «{label}» của quy trình")


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
    task = _open_task(instance.id, INCOMING_PROCESS, "register")
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
    document_id: int, *, actor: ActorRef, data: Mapping[str, Any] | None = None, confirm_duplicate: bool = False,
    signature_reason: str | None = None,
) -> DocumentInfo:
    """Register an electronically delivered document waiting at its ``register`` step: complete that step
    (its handler numbers the document, see ``complete_registration``)."""
    doc = db.session.get(Document, document_id)
    if doc is None:
        raise NotFoundError("Không tìm thấy văn bản")
    _require(actor, doc.agency_id, REGISTERING_ROLES, "vào sổ văn bản đến")
    if doc.status != "awaiting_registration":
        raise DocumentStateError("Văn bản này đã được vào sổ")
    instance = _instance_for(doc)
    task = _open_task(instance, INCOMING_PROCESS, "register")
    wf.complete_task(task.id, actor, dict(data or {}),
                     inputs={"confirm_duplicate": confirm_duplicate, "signature_reason": signature_reason})
    return document_info(doc, instance_id=instance)


def complete_registration(
    document_id: int, *, actor: ActorRef, data: Mapping[str, Any], confirm_duplicate: bool = False,
    signature_reason: str | None = None,
) -> dict[str, Any]:
    """The effect of a ``register`` step. A document typed in by the clerk (``register_incoming``) is
    registered already; one delivered electronically is numbered now, in the order the clerk registers it
    (Điều 22.2), from what it already says corrected by the clerk's form. A delivered file whose signature
    is not valid is registered only with the clerk's stated reason. Returns the data the step keeps."""
    doc = _locked_document(document_id)
    _require(actor, doc.agency_id, REGISTERING_ROLES, "vào sổ văn bản đến")
    if doc.status != "awaiting_registration":
        return _task_form_data({}, doc)
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
    reason = nfc((signature_reason or "").strip())
    if needs_signature_reason(doc.signature_status) and not reason:
        inp.error("signature_reason", "Chữ ký số của văn bản không hợp lệ hoặc không được tin cậy: nhập lý do "
                                      "vẫn vào sổ, hoặc trả lại văn bản cho nơi gửi")
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
    if reason:
        doc.signature_override_reason = reason[:1000]
    doc.status = "registered"
    doc.updated_at = clock.now()
    refresh_search_text(doc)
    db.session.flush()
    deliveries.advance(doc, "registered")
    signals.document_registered.send(None, document_id=doc.id, agency_id=doc.agency_id)
    return _task_form_data(fields, doc)


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
    """Create an outgoing draft, start the agency's ``outgoing`` process and (by default) submit its
    ``draft`` step, so it goes on to review; that submission is the draft's first revision.

    ``data`` keys: doc_type (code), summary, body, recipients, recipient_agency_codes, urgency,
    signer_id (the leader who will sign), signer_position, due_date, pages.
    """
    if actor.agency_id != agency_id:
        raise PermissionDeniedError("Không thể soạn văn bản cho cơ quan khác")
    now = clock.now()
    doc = Document(
        agency_id=agency_id, direction="outgoing", status="draft", confidentiality="thuong", summary="",
        recipient_agency_codes=[], urgency="thuong", drafting_department_id=actor.department_id,
        source_document_id=source_document_id, created_by_id=actor.user_id, created_at=now, updated_at=now,
        back_entered=False,
    )
    apply_draft_fields(doc, data, creating=True)
    checked = _check(files)
    db.session.add(doc)
    db.session.flush()
    _attach(doc, files, checked, storage=storage or default_storage(), by_user_id=actor.user_id, verify=False)
    refresh_search_text(doc)
    db.session.flush()
    extra = {"signer_id": doc.signer_user_id, "source_document_id": source_document_id}
    instance = wf.start_instance(agency_id, OUTGOING_PROCESS, subject_type="outgoing", subject_id=doc.id,
                                 data=_workflow_data(doc, extra), actor=actor)
    if complete_draft:
        task = _open_task(instance.id, OUTGOING_PROCESS, "draft")
        wf.complete_task(task.id, actor, {})  # the fields are in the document already: the handler keeps them
    return document_info(doc, instance_id=instance.id)


def apply_draft_fields(doc: Document, data: Mapping[str, Any], *, creating: bool = False) -> None:
    """Validate and write the draft's fields; only the keys present change (all of them when creating).

    Every problem is reported at once, next to its field."""
    present = set(data) | ({"doc_type", "summary"} if creating else set())
    inp = _Input(data)
    check_admissible({**inp.data, "type_name": _type_name(inp.data)})
    values: dict[str, Any] = {}
    if "doc_type" in present or "doc_type_code" in present:
        values["doc_type"] = _doc_type(inp, required=True)
    if "summary" in present:
        values["summary"] = _strip_vv(inp.text("summary", required=True, max_length=MAX_SUMMARY))
    if "body" in present:
        values["body"] = inp.text("body", max_length=200_000)
    if "recipients" in present:
        values["recipients"] = inp.text("recipients", max_length=4000)
    if "recipient_agency_codes" in present:
        codes = inp.codes("recipient_agency_codes")
        if codes:
            known = set(db.session.scalars(select(Agency.code).where(Agency.code.in_(codes),
                                                                      Agency.active.is_(True))))
            from app.liaison.organs import is_organ_id

            # Agencies outside this deployment are named by their mã định danh (sent over the axis).
            unknown = [c for c in codes if c not in known and not is_organ_id(c)]
            if unknown:
                inp.error("recipient_agency_codes", "Không có cơ quan: " + ", ".join(unknown)
                          + " (chọn cơ quan trong hệ thống hoặc nhập mã định danh dạng 000.00.00.H61)")
        values["recipient_agency_codes"] = list(dict.fromkeys(codes))
    if "urgency" in present:
        values["urgency"] = inp.choice("urgency", URGENCIES, doc.urgency or "thuong")
    if "due_date" in present:
        values["due_date"] = inp.date("due_date")
    if "pages" in present:
        values["pages"] = inp.integer("pages", minimum=0, maximum=10000)
    signer = None
    if "signer_id" in present:
        signer_id = inp.integer("signer_id", minimum=1, maximum=2**31 - 1)
        signer = _signer(doc.agency_id, signer_id, inp) if signer_id else None
    position = inp.text("signer_position", max_length=120) if "signer_position" in present else None
    inp.raise_if_any("Thông tin dự thảo chưa hợp lệ")
    for name, value in values.items():
        setattr(doc, name, value)
    if signer is not None:
        doc.signer_user_id, doc.signer_name = signer.user_id, signer.full_name
        doc.signer_position = position or (signer.position.name if signer.position else doc.signer_position)
    elif position:
        doc.signer_position = position


def _strip_vv(summary: str | None) -> str | None:
    """"V/v" is the layout's (công văn, Phụ lục I): a summary typed with it would print "V/v V/v"."""
    if summary is None:
        return None
    text = summary
    while text[:3].lower() == "v/v":
        text = text[3:].lstrip(" :.-")
    return text or summary


def attach_files(doc: Document, files: Sequence[UploadInfo], *, by_user_id: int | None, verify: bool = False,
                 storage: Storage | None = None) -> None:
    """Check and store every file, then reference them from the document (one transaction)."""
    if not files:
        return
    checked = _check(files)
    _attach(doc, files, checked, storage=storage or default_storage(), by_user_id=by_user_id, verify=verify)
    refresh_search_text(doc)


def _signer(agency_id: int, user_id: int, inp: _Input) -> Staff | None:
    staff = db.session.scalar(select(Staff).where(Staff.user_id == user_id, Staff.agency_id == agency_id))
    if staff is None:
        inp.error("signer_id", "Người ký không thuộc cơ quan")
    return staff


def issue_outgoing(
    document_id: int, *, issue_date: dt.date | str | None = None, copies: int | None = None
) -> DocumentInfo:
    """Number (cấp số) an approved outgoing document in its register (Điều 15, 16); idempotent per document.

    The date is the day of issue: not in the future, in the current year (numbers start again at 01 on
    1 January), and not before the date of the register's previous number, so numbers run in date order."""
    doc = _locked_document(document_id)
    if doc.direction != "outgoing":
        raise DocumentStateError("Chỉ văn bản đi mới được cấp số")
    if doc.number is not None:
        return document_info(doc)  # a retried service task must not take a second number
    if doc.status != "approved":
        raise DocumentStateError("Văn bản chưa được người có thẩm quyền phê duyệt; chưa cấp số được")
    inp = _Input({"issue_date": issue_date, "copies": copies})
    day = inp.date("issue_date") or clock.today()
    n_copies = inp.integer("copies", minimum=0, maximum=10000)
    inp.raise_if_any("Thông tin ban hành chưa hợp lệ")
    _check_issue_day(day)
    agency = db.session.get(Agency, doc.agency_id)
    assert agency is not None
    register_id = numbering.ensure_register(doc.agency_id, "outgoing", day.year, doc.doc_type)
    number = numbering.draw_number(register_id)
    _check_date_order(register_id, day)
    _number_outgoing(doc, agency, register_id, number, day)
    if n_copies is not None:
        doc.copies = n_copies
    refresh_search_text(doc)
    db.session.flush()
    return document_info(doc)


def _check_issue_day(day: dt.date) -> None:
    today = clock.today()
    if day > today:
        raise ValidationError("Ngày ban hành không được sau ngày hôm nay",
                              field_errors={"issue_date": ["Không được sau ngày hôm nay"]})
    if day.year != today.year:
        raise ValidationError(
            f"Ngày ban hành phải trong năm {today.year}: số văn bản mỗi năm bắt đầu từ số 01 ngày 01 tháng 01",
            field_errors={"issue_date": [f"Phải trong năm {today.year}"]})


def _check_date_order(register_id: int, day: dt.date) -> None:
    """Under the register's lock: a number may not carry an earlier date than the number before it."""
    last = db.session.execute(
        select(Document.number, Document.issue_date)
        .where(Document.register_id == register_id, Document.direction == "outgoing", Document.number.is_not(None))
        .order_by(Document.number.desc()).limit(1)
    ).one_or_none()
    if last is not None and last.issue_date is not None and day < last.issue_date:
        raise ValidationError(
            f"Ngày ban hành không được trước ngày của văn bản số {numbering.format_number(last.number)} "
            f"trong sổ ({last.issue_date:%d/%m/%Y}): số văn bản phải theo thứ tự thời gian ban hành",
            field_errors={"issue_date": [f"Không được trước ngày {last.issue_date:%d/%m/%Y}"]})


def _number_outgoing(doc: Document, agency: Agency, register_id: int, number: int, day: dt.date) -> None:
    unit = db.session.get(Department, doc.drafting_department_id) if doc.drafting_department_id else None
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
    doc.updated_at = clock.now()


@dataclass(frozen=True)
class OutgoingBackEntryItem:
    """An outgoing document issued on paper while the software was down (Art 6.2 QĐ 52/2014)."""

    data: Mapping[str, Any]  # doc_type, summary, recipients, signer_name, signer_position, urgency…
    number: int  # the number written on the paper
    issue_date: dt.date
    scan: UploadInfo


def register_outgoing_backlog(agency_id: int, *, actor: ActorRef, items: Sequence[OutgoingBackEntryItem],
                              storage: Storage | None = None) -> list[DocumentInfo]:
    """Back-enter outgoing documents issued on paper during an outage, with their paper numbers.

    In number order, each must be the register's next number and not older than the number before it,
    so the register stays gap-free and in date order; each is kept with its signed scan, issued."""
    _require(actor, agency_id, REGISTERING_ROLES, "nhập bù văn bản đi")
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise NotFoundError("Không tìm thấy cơ quan")
    out = []
    for item in sorted(items, key=lambda i: i.number):
        now = clock.now()
        doc = Document(agency_id=agency_id, direction="outgoing", status="issued", confidentiality="thuong",
                       summary="", recipient_agency_codes=[], urgency="thuong", back_entered=True,
                       drafting_department_id=actor.department_id, created_by_id=actor.user_id, created_at=now,
                       updated_at=now)
        apply_draft_fields(doc, item.data, creating=True)
        if item.data.get("signer_name"):
            doc.signer_name = nfc(str(item.data["signer_name"]).strip())[:120]
        if item.issue_date > clock.today():
            raise ValidationError(f"Văn bản số {item.number:02d}: ngày ban hành không được sau ngày hôm nay")
        checked = _check([item.scan])
        db.session.add(doc)
        register_id = numbering.ensure_register(agency_id, "outgoing", item.issue_date.year, doc.doc_type)
        with db.session.no_autoflush:
            number = numbering.draw_number(register_id)
        if number != item.number:
            raise ValidationError(
                f"Số {item.number:02d} trên bản giấy không liền sau số cuối của sổ (số tiếp theo là {number:02d}); "
                "hãy nhập bù theo đúng thứ tự số đã cấp trên sổ giấy")
        _check_date_order(register_id, item.issue_date)
        _number_outgoing(doc, agency, register_id, number, item.issue_date)
        doc.issued_at = now
        db.session.flush()
        scan = UploadInfo(item.scan.filename, item.scan.data, kind="scan")
        _attach(doc, [scan], checked, storage=storage or default_storage(), by_user_id=actor.user_id, verify=True)
        refresh_search_text(doc)
        db.session.flush()
        out.append(document_info(doc))
    return out


def deliver_outgoing(document_id: int) -> list[int]:
    """Send an issued document to its recipients (liên thông), each as an edXML package (QCVN 102:2016).

    What travels is exactly the issued file: the one sealed with the agency signature and the signed
    appendices (or, for an agency issuing on paper, the signed scan); a document without it is refused.
    Recipients are agencies of this deployment (by code) or outside it (by mã định danh); each package is
    queued in the outbox in this transaction (app.liaison) and the receiving side lands it as "chờ vào sổ"
    (packages.receive_package). Returns the ids of the copies already made in this deployment.
    """
    from app.liaison import services as liaison
    from app.liaison.organs import is_organ_id, organ_id_of

    from . import packages

    doc = _locked_document(document_id)
    if doc.status not in ("issued", "delivered") or doc.number is None:
        raise DocumentStateError("Văn bản chưa được phát hành, chưa thể gửi")
    files = _deliverable(doc)
    agency = db.session.get(Agency, doc.agency_id)
    assert agency is not None
    if doc.exchange_document_id is None:
        doc.exchange_document_id = packages.document_id_of(doc, agency)
    sender_org = organ_id_of(agency)
    codes = list(doc.recipient_agency_codes or [])
    local = {a.code: a for a in db.session.scalars(
        select(Agency).where(Agency.code.in_(codes), Agency.active.is_(True), Agency.id != doc.agency_id))}
    targets: list[tuple[str, str, Agency | None]] = []
    for code in codes:
        if code in local:
            targets.append((organ_id_of(local[code]), local[code].name, local[code]))
        elif is_organ_id(code) and code != sender_org:
            from app.liaison.directory import organ_name
            from app.liaison.organs import local_agency

            here = local_agency(code)
            targets.append((code, here.name if here is not None else (organ_name(code) or code), here))
    already = {d.recipient_org_id or d.recipient_code for d in deliveries.deliveries_of(doc.id)}
    seen: set[str] = set()
    for organ_id, name, target in targets:
        if organ_id in already or organ_id in seen or (target is not None and target.code in already):
            continue
        seen.add(organ_id)
        recipient = packages.OrganInfo(organ_id=organ_id, organ_name=name)
        payload = packages.build_package(doc, agency, files, recipient)
        deliveries.record_sent(doc, organ_id=organ_id, name=name, agency=target)
        liaison.enqueue("package", payload, document_id=doc.exchange_document_id, sender_org=sender_org,
                        recipient_org=organ_id)
    doc.status = "delivered"
    doc.updated_at = clock.now()
    db.session.flush()
    created = list(db.session.scalars(select(Document.id).where(
        Document.exchange_document_id == doc.exchange_document_id, Document.direction == "incoming",
        Document.id != doc.id).order_by(Document.id)))
    if seen:
        signals.document_delivered.send(None, document_id=doc.id, agency_id=doc.agency_id, delivered_ids=created)
    return created


def _deliverable(doc: Document) -> list[Attachment]:
    """The issued file (sealed by the agency) and the signed appendices, or the signed paper's scan."""
    by_kind: dict[str, list[Attachment]] = {}
    for att in doc.attachments:
        by_kind.setdefault(att.kind, []).append(att)
    if by_kind.get("sealed"):
        return [by_kind["sealed"][-1], *by_kind.get("appendix_signed", [])]
    paper = db.session.scalar(select(Agency.issues_on_paper).where(Agency.id == doc.agency_id))
    if paper and by_kind.get("scan"):
        return list(by_kind["scan"])
    if doc.back_entered and by_kind.get("scan"):
        return list(by_kind["scan"])
    raise DocumentStateError("Văn bản chưa có bản đã ký số của cơ quan (đóng dấu điện tử); không gửi được")


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
    deliveries.advance(doc, "assigned")


def mark_processing(document_id: int) -> None:
    """Someone is working on the received document: the sender sees "Đang xử lý"."""
    doc = db.session.get(Document, document_id)
    if doc is not None:
        deliveries.advance(doc, "processing")


def set_status(document_id: int, status: str) -> None:
    """Follow the workflow (approved, done …); called by workflow hooks and operations."""
    doc = _locked_document(document_id)
    if doc.status in ("withdrawn", "returned", "recalled"):
        return  # a withdrawn copy keeps its state whatever its (cancelled) process did
    doc.status = status
    doc.updated_at = clock.now()
    db.session.flush()
    if status == "done":
        deliveries.advance(doc, "done")
