"""What the API reads and answers, as marshmallow schemas: they parse the query, shape the JSON and, through
apispec, are the OpenAPI document itself (one definition, so the spec cannot drift from the answers)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from app.core import clock
from app.documents.models import CHANNELS, URGENCIES
from app.documents.queries import STATUS_LABELS

INT32_MAX = 2**31 - 1
DIRECTIONS = ("incoming", "outgoing")
DOCUMENT_STATUSES = tuple(STATUS_LABELS)
REGISTER_KINDS = ("incoming", "outgoing")


class AwareDateTime(fields.DateTime):
    """ISO 8601 with its offset; a moment given without one is Vietnam time (what integrators here mean)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        return moment if moment.tzinfo else moment.replace(tzinfo=clock.VN_TZ)


class _Query(Schema):
    class Meta:
        unknown = EXCLUDE


class PageQuery(_Query):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200),
                           metadata={"description": "Số bản ghi mỗi trang (1–200)"})
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000),
                            metadata={"description": "Bỏ qua bao nhiêu bản ghi đầu"})


class DocumentListQuery(PageQuery):
    register_id = fields.Integer(validate=validate.Range(1, INT32_MAX), metadata={"description": "Mã sổ"})
    year = fields.Integer(validate=validate.Range(1900, 2999), metadata={"description": "Năm của sổ"})
    status = fields.String(validate=validate.OneOf(DOCUMENT_STATUSES), metadata={"description": "Tình trạng"})
    updated_since = AwareDateTime(metadata={
        "description": "Chỉ các văn bản thay đổi từ thời điểm này (ISO 8601; không có múi giờ: giờ Việt Nam)"})


class RegisterQuery(_Query):
    year = fields.Integer(validate=validate.Range(1900, 2999))
    kind = fields.String(validate=validate.OneOf(REGISTER_KINDS))


class OutboxQuery(PageQuery):
    state = fields.String(validate=validate.OneOf(("pending", "sent", "refused")))


class InboxQuery(PageQuery):
    result = fields.String(validate=validate.OneOf(("accepted", "rejected")))


class ErrorBody(Schema):
    code = fields.String(required=True, metadata={"description": "Mã lỗi cố định (tiếng Anh, cho máy đọc)"})
    message = fields.String(required=True, metadata={"description": "Thông báo lỗi bằng tiếng Việt"})
    field_errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    details = fields.List(fields.String())


class Error(Schema):
    error = fields.Nested(ErrorBody, required=True)


def _text(**kw: Any) -> fields.String:
    return fields.String(allow_none=True, **kw)


class Attachment(Schema):
    id = fields.Integer(required=True)
    document_id = fields.Integer(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "original | scan | rendered | signed"})
    page_count = fields.Integer(allow_none=True)
    created_at = fields.DateTime(required=True)
    verification_status = _text(metadata={"description": "valid | untrusted | modified | expired | invalid | unsigned"})
    verification_label = _text()
    download_url = fields.Method("_download", required=True)

    def _download(self, obj: Any) -> str:
        return f"/api/v1/attachments/{obj.id}/content"


class AttachmentList(Schema):
    items = fields.List(fields.Nested(Attachment), required=True)


class DocumentSummary(Schema):
    id = fields.Integer(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    status = fields.String(required=True)
    year = fields.Integer(allow_none=True)
    register_id = fields.Integer(allow_none=True)
    number = fields.Integer(allow_none=True)
    number_notation = _text()
    doc_type_code = _text()
    doc_type_name = _text()
    issuer_name = _text()
    issuer_org_id = _text()
    issue_date = fields.Date(allow_none=True)
    summary = fields.String(required=True)
    urgency = fields.String(required=True)
    due_date = fields.Date(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    registered_at = fields.DateTime(allow_none=True)
    issued_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)


class Document(DocumentSummary):
    notation = _text()
    signer_name = _text()
    signer_position = _text()
    pages = fields.Integer(allow_none=True)
    copies = fields.Integer(allow_none=True)
    confidentiality = fields.String(required=True)
    recipients = _text()
    recipient_agency_codes = fields.List(fields.String(), required=True)
    arrival_date = fields.Date(allow_none=True)
    back_entered = fields.Boolean(required=True)
    channel = _text()
    lead_department_id = fields.Integer(allow_none=True)
    coordinating_department_ids = fields.List(fields.Integer(), required=True)
    source_document_id = fields.Integer(allow_none=True)
    signature_status = _text()
    signature_label = _text()
    note = _text()
    approved_at = fields.DateTime(allow_none=True)
    returned_at = fields.DateTime(allow_none=True)
    recalled_at = fields.DateTime(allow_none=True)
    attachments = fields.List(fields.Nested(Attachment), required=True)


class DocumentPage(Schema):
    items = fields.List(fields.Nested(DocumentSummary), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class DeliveryEvent(Schema):
    status = fields.String(required=True)
    label = fields.String(required=True)
    at = fields.DateTime(required=True)
    actor_name = _text()
    note = _text()


class Delivery(Schema):
    recipient_code = fields.String(required=True)
    recipient_name = fields.String(required=True)
    status = fields.String(required=True)
    label = fields.String(required=True, metadata={"description": "Tình trạng bằng tiếng Việt"})
    status_at = fields.DateTime(required=True)
    reason = _text()
    events = fields.List(fields.Nested(DeliveryEvent), required=True)


class DeliveryList(Schema):
    items = fields.List(fields.Nested(Delivery), required=True)


class Register(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    year = fields.Integer(required=True)
    name = fields.String(required=True)
    type_scope = fields.String(required=True)
    next_number = fields.Integer(required=True)


class RegisterList(Schema):
    items = fields.List(fields.Nested(Register), required=True)


class Task(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    process_key = fields.String(required=True)
    subject_type = fields.String(required=True)
    subject_id = fields.Integer(required=True)
    step_kind = _text()
    candidate_role = _text()
    candidate_department_id = fields.Integer(allow_none=True)
    candidate_user_id = fields.Integer(allow_none=True)
    claimed_by_id = fields.Integer(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)


class TaskPage(Schema):
    items = fields.List(fields.Nested(Task), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class OutboxItem(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    document_id = fields.String(required=True, metadata={"description": "DocumentId của edXML"})
    recipient_org = fields.String(required=True)
    code = fields.String(required=True)
    state = fields.String(required=True)
    attempts = fields.Integer(required=True)
    size = fields.Integer(required=True)
    route = _text()
    last_error = _text()
    created_at = fields.DateTime(required=True)
    sent_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(required=True)


class OutboxPage(Schema):
    items = fields.List(fields.Nested(OutboxItem), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class InboxItem(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    document_id = fields.String(required=True)
    sender_org = fields.String(required=True)
    code = fields.String(required=True)
    result = fields.String(required=True)
    via = fields.String(required=True)
    local_document_id = fields.Integer(allow_none=True)
    detail = _text()
    received_at = fields.DateTime(required=True)


class InboxPage(Schema):
    items = fields.List(fields.Nested(InboxItem), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class IncomingForm(Schema):
    """The fields of the page "Vào sổ văn bản đến", as multipart/form-data (files in ``files``)."""

    class Meta:
        unknown = EXCLUDE

    doc_type = fields.String(required=True, metadata={"description": "Mã loại văn bản, ví dụ cong_van"})
    number_notation = fields.String(required=True, validate=validate.Length(1, 80),
                                    metadata={"description": "Số, ký hiệu, ví dụ 15/UBND-VX"})
    issuer_name = fields.String(required=True, validate=validate.Length(1, 255))
    issuer_org_id = fields.String(validate=validate.Length(0, 32))
    issue_date = fields.Date(required=True, metadata={"description": "Ngày văn bản (YYYY-MM-DD)"})
    summary = fields.String(required=True, validate=validate.Length(1, 2000), metadata={"description": "Trích yếu"})
    signer_name = fields.String(validate=validate.Length(0, 120))
    signer_position = fields.String(validate=validate.Length(0, 120))
    pages = fields.Integer(validate=validate.Range(0, 10000))
    copies = fields.Integer(validate=validate.Range(0, 10000))
    urgency = fields.String(validate=validate.OneOf(URGENCIES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    recipients = fields.String(validate=validate.Length(0, 1000))
    due_date = fields.Date()
    note = fields.String(validate=validate.Length(0, 2000))
    lead_department_id = fields.Integer(validate=validate.Range(1, INT32_MAX))
    confirm_duplicate = fields.Boolean(load_default=False, metadata={
        "description": "Vẫn vào sổ khi đã có văn bản trùng số, ký hiệu và nơi ban hành"})
    files = fields.List(fields.Raw(metadata={"type": "string", "format": "binary"}), metadata={
        "description": "Tệp văn bản (PDF, DOCX, ảnh…), cùng kiểm tra như trên trang"})

    @pre_load
    def _flatten(self, data: Any, **_kw: Any) -> Any:
        # A form field sent twice is ambiguous: keep the first (files come separately).
        if hasattr(data, "to_dict"):
            return data.to_dict(flat=True)
        return data

    @validates_schema
    def _no_blank(self, data: dict[str, Any], **_kw: Any) -> None:
        blank = [k for k in ("doc_type", "number_notation", "issuer_name", "summary")
                 if isinstance(data.get(k), str) and not data[k].strip()]
        if blank:
            raise ValidationError({k: ["Không được để trống"] for k in blank})
        # PostgreSQL refuses NUL in text (and no document contains one): invalid input, not a database error.
        nul = [k for k, v in data.items() if isinstance(v, str) and "\x00" in v]
        if nul:
            raise ValidationError({k: ["Chứa ký tự không hợp lệ"] for k in nul})


SCHEMAS: tuple[type[Schema], ...] = (Error, Attachment, AttachmentList, DocumentSummary, Document, DocumentPage,
                                     Delivery, DeliveryList, Register, RegisterList, Task, TaskPage, OutboxItem,
                                     OutboxPage, InboxItem, InboxPage)
