"""The open JSON API for integrators (/api/v1 on every agency host), described by /api/v1/openapi.json.

Entry-point layer like app.web: handlers load, check (token, agency, scope, rate limit), make one domain call.
Every refusal is ``{"error": {"code": "...", "message": "<Vietnamese>"}}`` with its HTTP status.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, current_app, request
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException

from app.core.errors import DomainError, ValidationError
from app.extensions import csrf, db

log = logging.getLogger("qlvb.api")

API_PREFIX = "/api/v1"
HTTP_MESSAGES = {
    400: ("bad_request", "Yêu cầu không hợp lệ (tham số sai hoặc thiếu). Không có dữ liệu nào bị thay đổi."),
    401: ("unauthorized", "Cần mã truy cập hợp lệ của tài khoản hệ thống"),
    403: ("forbidden", "Không có quyền thực hiện thao tác này"),
    404: ("not_found", "Không tìm thấy dữ liệu yêu cầu hoặc không có quyền xem"),
    405: ("method_not_allowed", "Địa chỉ này không nhận phương thức HTTP đã dùng"),
    413: ("too_large", "Tệp tải lên vượt quá giới hạn cho phép. Không có dữ liệu nào bị thay đổi."),
    415: ("unsupported_media_type", "Kiểu nội dung gửi lên không được hỗ trợ"),
    429: ("rate_limited", "Vượt giới hạn số lần gọi; vui lòng thử lại sau"),
    503: ("unavailable", "Hệ thống tạm thời gián đoạn; vui lòng thử lại sau ít phút"),
}


def json_response(data: Any, status: int = 200) -> Response:
    """JSON in UTF-8 as it is (Vietnamese readable in a terminal, not \\u-escaped)."""
    return current_app.response_class(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n",
                                      status=status, mimetype="application/json")


def error_response(status: int, code: str, message: str, **extra: Any) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update({k: v for k, v in extra.items() if v})
    resp = json_response({"error": body}, status)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def http_error(status: int, message: str | None = None) -> Response:
    code, default = HTTP_MESSAGES.get(status, ("error", "Không thực hiện được yêu cầu"))
    if status == 413:
        limit = current_app.config.get("QLVB_MAX_UPLOAD_MB")
        default = f"Tệp tải lên vượt quá giới hạn {limit} MB. Không có dữ liệu nào bị thay đổi."
    return error_response(status, code, message or default)


def is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def init_api(app: Flask) -> None:
    from . import auth, views

    bp = views.bp

    @bp.before_request
    def _before() -> Any:
        if request.endpoint in views.OPEN_ENDPOINTS:
            return None
        caller = auth.authenticate()
        view = app.view_functions.get(request.endpoint or "")
        auth.require_scope(caller, auth.operation_scope(view))
        return None

    @bp.after_request
    def _after(resp: Response) -> Response:
        # One commit per call, at the boundary: the audit lines and the client's last use; nothing on a refusal.
        if resp.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    bp.teardown_request(auth.reset_origin)

    @bp.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response:
        db.session.rollback()
        log.log(exc.log_level, "api %s %s refused (%s): %s", request.method, request.path, exc.http_status, exc.log)
        status = exc.http_status if 400 <= exc.http_status < 600 else 400
        resp = error_response(status, exc.code, exc.message, details=exc.details,
                              field_errors=exc.field_errors if isinstance(exc, ValidationError) else None)
        if isinstance(exc, auth.RateLimitedError):
            resp.headers["Retry-After"] = str(exc.retry_after)
        if status == 401:
            resp.headers["WWW-Authenticate"] = 'Bearer realm="qlvb"'
        return resp

    # By code as well: Flask looks for a handler of the code (the app's pages have some) before one of the class.
    def _http(exc: HTTPException) -> Response:
        db.session.rollback()
        status = exc.code or 500
        message = exc.description if status == 400 and (exc.description or "").startswith("Tham số") else None
        resp = http_error(status, message)
        if status == 405 and getattr(exc, "valid_methods", None):
            resp.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return resp

    bp.register_error_handler(HTTPException, _http)
    for code in (*HTTP_MESSAGES, 416, 500):
        bp.register_error_handler(code, _http)

    @bp.errorhandler(OverflowError)
    @bp.errorhandler(DataError)
    def _out_of_range(exc: Exception) -> Response:
        db.session.rollback()
        log.warning("api value out of range on %s %s: %s", request.method, request.path, exc)
        return error_response(400, "bad_request", "Một giá trị vượt quá giới hạn cho phép. "
                                                  "Không có dữ liệu nào bị thay đổi.")

    @bp.errorhandler(OperationalError)
    def _db_down(exc: OperationalError) -> Response:
        db.session.rollback()
        log.error("database unavailable on api %s %s: %s", request.method, request.path, exc.orig)
        return http_error(503)

    csrf.exempt(bp)  # systems with tokens, not browsers: no cookie is ever read by this blueprint
    auth.install_limiter(app)
    app.register_blueprint(bp)
