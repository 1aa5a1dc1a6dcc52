"""The OpenAPI 3 document, built from the routes themselves: each handler is declared with ``operation(...)``,
which registers its Flask route and its OpenAPI operation from the same schemas (app.api.schemas)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema

from . import schemas

VERSION = "1.0.0"
PREFIX = "/api/v1"

# Every answer may be one of these (the token, the scope, the rate limit are checked before the handler).
_COMMON = {
    "401": "Thiếu mã truy cập, mã không hợp lệ, đã bị thu hồi hoặc không thuộc cơ quan của tên miền này",
    "403": "Tài khoản hệ thống không có phạm vi quyền cần thiết",
    "404": "Không tìm thấy (hoặc thuộc cơ quan khác)",
    "429": "Vượt giới hạn số lần gọi; thử lại sau số giây trong Retry-After",
}
_MORE = {
    "400": "Tham số không hợp lệ",
    "409": "Xung đột (ví dụ văn bản trùng)",
    "413": "Tệp tải lên quá lớn",
    "422": "Dữ liệu không hợp lệ",
    "503": "Hệ thống tạm thời gián đoạn",
}


@dataclass(frozen=True)
class Operation:
    path: str  # OpenAPI form: /documents/{document_id}
    method: str
    summary: str
    scope: str | None
    tag: str
    query: type[Schema] | None = None
    path_params: tuple[str, ...] = ()
    response: type[Schema] | None = None
    status: int = 200
    binary: bool = False  # the answer is a file, not JSON
    form: type[Schema] | None = None
    errors: tuple[int, ...] = ()
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


OPERATIONS: list[Operation] = []


def operation(bp: Any, op: Operation) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` on ``bp`` at ``op.path`` and record ``op`` for the document."""
    rule = op.path
    for name in op.path_params:
        rule = rule.replace("{" + name + "}", f"<int:{name}>")

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn._api_operation = op  # type: ignore[attr-defined]  # read by the scope check in app.api.auth
        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=fn, methods=[op.method.upper()])
        OPERATIONS.append(op)
        return fn

    return wrap


def _error_response(text: str) -> dict[str, Any]:
    return {"description": text, "content": {"application/json": {"schema": "Error"}}}


def _operation_doc(op: Operation) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"in": "path", "name": name, "required": True,
         "schema": {"type": "integer", "minimum": 1, "maximum": schemas.INT32_MAX}}
        for name in op.path_params
    ]
    if op.query is not None:
        params.append({"in": "query", "schema": op.query})
    if op.binary:
        ok: dict[str, Any] = {"description": "Nội dung tệp", "content": {
            "*/*": {"schema": {"type": "string", "format": "binary"}}},
            "headers": {"ETag": {"schema": {"type": "string"}}}}
    else:
        ok = {"description": "Thành công", "content": {"application/json": {"schema": op.response}}}
    responses: dict[str, Any] = {str(op.status): ok}
    if op.binary:
        responses["206"] = {"description": "Một đoạn của tệp (Range)", "content": {
            "*/*": {"schema": {"type": "string", "format": "binary"}}}}
        responses["304"] = {"description": "Tệp không đổi (If-None-Match)"}
        responses["416"] = {"description": "Đoạn yêu cầu nằm ngoài tệp"}
    for code, text in _COMMON.items():
        responses[code] = _error_response(text)
    if op.query is not None or op.path_params:
        responses["400"] = _error_response(_MORE["400"])
    for code in op.errors:
        responses[str(code)] = _error_response(_MORE[str(code)])
    doc: dict[str, Any] = {"summary": op.summary, "tags": [op.tag], "operationId": op.method + op.path.replace(
        "/", "_").replace("{", "").replace("}", ""), "parameters": params, "responses": responses,
        "security": [{"bearer": []}]}
    if op.scope:
        doc["description"] = (op.description + "\n\n" if op.description else "") + f"Phạm vi quyền: `{op.scope}`."
    if op.form is not None:
        doc["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": op.form}}}
    return doc


def build_spec() -> dict[str, Any]:
    spec = APISpec(
        title="QLVB – API cho hệ thống khác", version=VERSION, openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "API JSON của QLVB cho các hệ thống tích hợp. Mỗi cơ quan dùng tên miền của mình; "
                             "mã truy cập là của một tài khoản hệ thống do quản trị cơ quan cấp."},
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "description": "Mã truy cập của tài khoản hệ thống (qlvb_…)"})
    for schema in schemas.SCHEMAS:
        spec.components.schema(schema.__name__, schema=schema)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(PREFIX + op.path, {})[op.method] = _operation_doc(op)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
