"""The handlers of /api/v1: parse the query, one domain call, shape the answer with its schema.

Authentication, scopes and the rate limit run before each handler (app.api.auth via ``_before``); the answer is
committed once, after the handler (the audit lines, the client's last use), or rolled back on a refusal.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, request
from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from app.core import signals
from app.core.errors import NotFoundError, ValidationError
from app.documents import queries as dq
from app.documents import services as ds
from app.liaison import queries as lq
from app.web.uploads import posted_files, send_blob
from app.workflow import queries as wfq

from . import json_response
from . import schemas as S
from .auth import current_caller
from .spec import Operation, build_spec, operation

log = logging.getLogger("qlvb.api")
bp = Blueprint("api", __name__, url_prefix="/api/v1")
OPEN_ENDPOINTS = frozenset({"api.openapi", "api.unknown"})


# -- helpers ------------------------------------------------------------------------------------------------------
def vietnamese_errors(errors: Any) -> dict[str, list[str]]:
    """marshmallow's (English) messages as ours: which fields, and whether missing or malformed."""
    out: dict[str, list[str]] = {}
    for name, messages in (errors.items() if isinstance(errors, dict) else [("_schema", errors)]):
        texts = messages if isinstance(messages, list) else [messages]
        missing = any(isinstance(t, str) and t.startswith("Missing data") for t in texts)
        ours = [t for t in texts if isinstance(t, str) and not t.isascii()]  # our own (Vietnamese) messages
        out[str(name)[:60]] = ours or ["Không được để trống" if missing else "Giá trị không hợp lệ"]
    return out


class QueryError(ValidationError):
    http_status = 400
    code = "bad_request"


def _query(schema: type[Schema]) -> dict[str, Any]:
    try:
        return schema().load(request.args)  # type: ignore[no-any-return]
    except SchemaError as exc:
        fields = vietnamese_errors(exc.messages)
        raise QueryError("Tham số không hợp lệ: " + ", ".join(sorted(fields)), field_errors=fields) from exc


def _json(schema: type[Schema], obj: Any, status: int = 200) -> Response:
    return json_response(schema().dump(obj), status)


def _page(schema: type[Schema], items: Any, total: int, limit: int, offset: int) -> Response:
    return _json(schema, {"items": items, "total": total, "limit": limit, "offset": offset})


def _audit(kind: str, target_type: str, target_id: int, **detail: Any) -> None:
    caller = current_caller()
    signals.audit.send(kind=kind, agency_id=caller.actor.agency_id, user_id=caller.actor.user_id,
                       target_type=target_type, target_id=str(target_id),
                       detail={"via": "api", "api_client_id": caller.client.id, **detail})


# -- documents ----------------------------------------------------------------------------------------------------
def _list(direction: str) -> Response:
    caller = current_caller()
    q = _query(S.DocumentListQuery)
    page = dq.list_documents(caller.actor.agency_id, direction=direction, actor=caller.actor, year=q.get("year"),
                             status=q.get("status"), register_id=q.get("register_id"),
                             updated_since=q.get("updated_since"), limit=q["limit"], offset=q["offset"])
    return _page(S.DocumentPage, page.items, page.total, page.limit, page.offset)


@operation(bp, Operation("/documents/incoming", "get", "Danh sách văn bản đến", "documents:read", "Văn bản",
                         query=S.DocumentListQuery, response=S.DocumentPage))
def incoming_documents() -> Response:
    return _list("incoming")


@operation(bp, Operation("/documents/outgoing", "get", "Danh sách văn bản đi", "documents:read", "Văn bản",
                         query=S.DocumentListQuery, response=S.DocumentPage))
def outgoing_documents() -> Response:
    return _list("outgoing")


@operation(bp, Operation("/documents/{document_id}", "get", "Một văn bản với thông tin và tệp đính kèm",
                         "documents:read", "Văn bản", path_params=("document_id",), response=S.Document))
def document(document_id: int) -> Response:
    caller = current_caller()
    doc = dq.get_document(caller.actor.agency_id, document_id, caller.actor)
    _audit("document_viewed", "document", doc.id)
    return _json(S.Document, doc)


@operation(bp, Operation("/documents/{document_id}/attachments", "get", "Các tệp đính kèm của văn bản",
                         "documents:read", "Văn bản", path_params=("document_id",), response=S.AttachmentList))
def document_attachments(document_id: int) -> Response:
    caller = current_caller()
    doc = dq.get_document(caller.actor.agency_id, document_id, caller.actor)
    _audit("document_viewed", "document", doc.id, part="attachments")
    return _json(S.AttachmentList, {"items": doc.attachments})


@operation(bp, Operation("/attachments/{attachment_id}/content", "get", "Tải nội dung một tệp đính kèm",
                         "documents:read", "Văn bản", path_params=("attachment_id",), binary=True,
                         description="Hỗ trợ Range (206) và If-None-Match theo ETag (SHA-256 của tệp)."))
def attachment_content(attachment_id: int) -> Response:
    caller = current_caller()
    info, stream = dq.attachment_stream(caller.actor.agency_id, attachment_id, caller.actor)

    def audited() -> None:
        log.info("api download of attachment %s by client %s", attachment_id, caller.client.id)
        _audit("document_downloaded", "attachment", attachment_id, filename=info.filename,
               document_id=info.document_id)

    return send_blob(stream, filename=info.filename, content_type=info.content_type, on_send=audited)


@operation(bp, Operation("/documents/{document_id}/deliveries", "get",
                         "Tình trạng gửi văn bản đi tới từng nơi nhận", "documents:read", "Văn bản",
                         path_params=("document_id",), response=S.DeliveryList))
def document_deliveries(document_id: int) -> Response:
    caller = current_caller()
    items = dq.deliveries_for(caller.actor.agency_id, document_id, caller.actor)
    _audit("document_viewed", "document", document_id, part="deliveries")
    return _json(S.DeliveryList, {"items": items})


@operation(bp, Operation("/documents/incoming", "post", "Vào sổ một văn bản đến (kèm tệp)", "documents:write",
                         "Văn bản", form=S.IncomingForm, response=S.Document, status=201,
                         errors=(400, 409, 413, 422, 503),
                         description="Cùng kiểm tra như trang “Vào sổ văn bản đến”: trường bắt buộc, loại tệp, "
                                     "dung lượng, văn bản trùng (409 trừ khi confirm_duplicate)."))
def register_incoming() -> Response:
    caller = current_caller()
    try:
        data = S.IncomingForm().load(request.form)
    except SchemaError as exc:
        fields = vietnamese_errors(exc.messages)
        raise ValidationError("Thông tin văn bản đến chưa hợp lệ: " + ", ".join(sorted(fields)),
                              field_errors=fields) from exc
    files = posted_files("files")
    confirm = bool(data.pop("confirm_duplicate", False))
    data.pop("files", None)
    doc = ds.register_incoming(caller.actor.agency_id, actor=caller.actor, data=data, files=files,
                               confirm_duplicate=confirm)
    _audit("document_registered", "document", doc.id, files=len(files))
    log.info("api client %s registered incoming document %s", caller.client.id, doc.id)
    resp = _json(S.Document, doc, status=201)
    resp.headers["Location"] = f"/api/v1/documents/{doc.id}"
    return resp


# -- registers, tasks, exchange ------------------------------------------------------------------------------------
@operation(bp, Operation("/registers", "get", "Các sổ văn bản của cơ quan", "documents:read", "Sổ",
                         query=S.RegisterQuery, response=S.RegisterList))
def registers() -> Response:
    caller = current_caller()
    q = _query(S.RegisterQuery)
    return _json(S.RegisterList, {"items": dq.registers_of(caller.actor.agency_id, year=q.get("year"),
                                                           kind=q.get("kind"))})


@operation(bp, Operation("/tasks", "get", "Các việc đang mở của cơ quan", "tasks:read", "Công việc",
                         query=S.PageQuery, response=S.TaskPage,
                         description="Tài khoản hệ thống không được giao việc: danh sách là mọi bước đang mở "
                                     "của cơ quan, hạn gần nhất trước."))
def tasks() -> Response:
    caller = current_caller()
    q = _query(S.PageQuery)
    items, total = wfq.agency_open_tasks(caller.actor.agency_id, limit=q["limit"], offset=q["offset"])
    return _page(S.TaskPage, items, total, q["limit"], q["offset"])


@operation(bp, Operation("/exchange/outbox", "get", "Hộp thư liên thông: các gói tin gửi đi", "exchange:read",
                         "Liên thông", query=S.OutboxQuery, response=S.OutboxPage))
def exchange_outbox() -> Response:
    caller = current_caller()
    q = _query(S.OutboxQuery)
    items, total = lq.outbox_of(caller.actor.agency_id, state=q.get("state"), limit=q["limit"],
                                offset=q["offset"])
    return _page(S.OutboxPage, items, total, q["limit"], q["offset"])


@operation(bp, Operation("/exchange/inbox", "get", "Hộp thư liên thông: các gói tin nhận về", "exchange:read",
                         "Liên thông", query=S.InboxQuery, response=S.InboxPage))
def exchange_inbox() -> Response:
    caller = current_caller()
    q = _query(S.InboxQuery)
    items, total = lq.inbox_of(caller.actor.agency_id, result=q.get("result"), limit=q["limit"],
                               offset=q["offset"])
    return _page(S.InboxPage, items, total, q["limit"], q["offset"])


# -- the document about all of the above ---------------------------------------------------------------------------
_SPEC: dict[str, Any] = {}


@bp.get("/openapi.json")
def openapi() -> Response:
    if not _SPEC:
        _SPEC.update(build_spec())
    resp = json_response(_SPEC)
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str) -> Response:
    allowed = _other_methods()
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFoundError("Không có địa chỉ API này (xem /api/v1/openapi.json)")


def _other_methods() -> list[str]:
    """The methods another route of the API answers on this path (then the answer is 405, not 404)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    found = []
    for method in ("GET", "POST"):
        try:
            endpoint, _ = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != "api.unknown":
            found.append(method)
    return found
