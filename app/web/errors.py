"""One place maps DomainError to HTTP and a Vietnamese page (or JSON for API calls)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import RequestEntityTooLarge

from app.core.errors import DomainError
from app.extensions import db

log = logging.getLogger("qlvb.errors")


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def back_url() -> str:
    """Where "Quay lại" leads without script: the page the user came from, when it is on this same site."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.netloc != request.host or parts.scheme not in ("http", "https"):
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _page(status: int, title: str, message: str, details: list[str] | None = None):
    if _wants_json():
        return jsonify({"error": message, "details": details or []}), status
    return render_template("errors/error.html", title=title, message=message, details=details or [],
                           back_url=back_url()), status


page = _page  # for the other handlers of the web layer (app.web.params)


def install(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        log.log(exc.log_level, "%s on %s %s: %s", type(exc).__name__, request.method, request.path, exc.log)
        return _page(exc.http_status, "Không thực hiện được yêu cầu", exc.message, exc.details)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        log.warning("CSRF refused on %s %s: %s", request.method, request.path, exc.description)
        return _page(400, "Phiên làm việc đã hết hạn",
                     "Biểu mẫu đã hết hạn hoặc không hợp lệ (mã bảo vệ CSRF). Vui lòng tải lại trang và thử lại.")

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_exc: RequestEntityTooLarge):
        limit = app.config.get("QLVB_MAX_UPLOAD_MB")
        log.warning("upload too large on %s", request.path)
        return _page(413, "Tệp quá lớn", f"Tệp tải lên vượt quá giới hạn {limit} MB. Không có dữ liệu nào bị thay đổi.")

    @app.errorhandler(OperationalError)
    def db_down(exc: OperationalError):
        db.session.rollback()
        log.error("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
        return _page(503, "Hệ thống tạm thời gián đoạn",
                     "Không kết nối được cơ sở dữ liệu. Thao tác chưa được ghi nhận; vui lòng thử lại sau ít phút.")

    @app.errorhandler(404)
    def not_found(_exc: Exception):
        return _page(404, "Không tìm thấy", "Trang hoặc dữ liệu bạn yêu cầu không tồn tại hoặc bạn không có quyền xem.")

    @app.errorhandler(403)
    def forbidden(_exc: Exception):
        return _page(403, "Không có quyền", "Bạn không có quyền thực hiện thao tác này.")
