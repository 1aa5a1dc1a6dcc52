"""The audit log: ``record_event`` and the ``audit`` signal any package sends to announce what happened.

Where a request came from (IP, browser, user, agency) is put into ``request_origin`` by the web layer at
the start of each request, so domain code that announces an event never touches Flask's request.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_appbuilder.security.sqla.models import Role, User
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.core import clock, signals
from app.extensions import db

from .models import AuditEvent

log = logging.getLogger("qlvb.audit")

# Kinds the log knows (others are accepted too: packages may add their own "area.verb" kinds).
KIND_LABELS: dict[str, str] = {
    "login": "Đăng nhập",
    "login_failed": "Đăng nhập không thành công",
    "logout": "Đăng xuất",
    "sessions_revoked": "Đăng xuất mọi phiên (do quản trị)",
    "password_changed": "Đổi mật khẩu",
    "password_reset": "Đặt lại mật khẩu",
    "account_created": "Tạo tài khoản",
    "account_changed": "Thay đổi công tác/vai trò",
    "account_revoked": "Thu hồi tài khoản",
    "account_reinstated": "Khôi phục tài khoản",
    "staff_import_previewed": "Xem trước danh sách cán bộ nhập",
    "staff_imported": "Nhập danh sách cán bộ",
    "account_unlocked": "Mở khóa tài khoản",
    "roles_changed": "Thay đổi vai trò",
    "permissions_changed": "Thay đổi quyền của vai trò",
    "document_viewed": "Xem văn bản",
    "document_downloaded": "Tải tệp văn bản",
    "document_signed": "Ký số văn bản",
    "export": "Xuất dữ liệu",
    "mail_received": "Nhận văn bản qua thư điện tử",
    "mail_refused": "Từ chối thư điện tử đến",
    "maintenance_scheduled": "Lên lịch bảo trì",
    "maintenance_cancelled": "Hủy lịch bảo trì",
    "backup": "Sao lưu",
    "restore": "Khôi phục dữ liệu",
    "api_client_created": "Tạo tài khoản hệ thống (API)",
    "api_client_rotated": "Cấp lại mã truy cập của tài khoản hệ thống",
    "api_client_revoked": "Thu hồi tài khoản hệ thống",
    "document_registered": "Vào sổ văn bản đến",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


@dataclass(frozen=True)
class Origin:
    ip: str | None = None
    user_agent: str | None = None
    user_id: int | None = None
    username: str | None = None
    agency_id: int | None = None


request_origin: contextvars.ContextVar[Origin | None] = contextvars.ContextVar("qlvb_request_origin", default=None)


def record_event(
    kind: str,
    *,
    success: bool = True,
    agency_id: int | None = None,
    user_id: int | None = None,
    username: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    target_type: str | None = None,
    target_id: Any = None,
    message: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit row to the current transaction (it commits or rolls back with the change it records).
    Values not given come from the request's origin."""
    origin = request_origin.get() or Origin()
    row = AuditEvent(
        at=clock.now(), kind=kind[:64], success=success,
        agency_id=agency_id if agency_id is not None else origin.agency_id,
        user_id=user_id if user_id is not None else origin.user_id,
        username=(username if username is not None else origin.username),
        ip=(ip or origin.ip or None),
        user_agent=((user_agent or origin.user_agent or "")[:512] or None),
        target_type=target_type, target_id=None if target_id is None else str(target_id)[:64],
        message=message, detail=dict(detail) if detail else None,
    )
    if row.username:
        row.username = row.username[:255]
    db.session.add(row)
    log.info("audit %s success=%s user=%s agency=%s target=%s:%s", kind, success, row.username, row.agency_id,
             target_type, target_id)
    return row


def _on_audit_signal(sender: Any, **kw: Any) -> None:
    kind = kw.pop("kind", None) or (sender if isinstance(sender, str) else None)
    if not kind:
        log.error("audit signal without a kind from %r", sender)
        return
    allowed = {"success", "agency_id", "user_id", "username", "ip", "user_agent", "target_type", "target_id",
               "message", "detail"}
    extra = {k: v for k, v in kw.items() if k not in allowed}
    args = {k: v for k, v in kw.items() if k in allowed}
    if extra:
        args["detail"] = {**(args.get("detail") or {}), **{k: _plain(v) for k, v in extra.items()}}
    record_event(kind, **args)


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def _role_names(items: Any) -> list[str]:
    return sorted(getattr(r, "name", str(r)) for r in items or [])


def _track_grants(session: Session, _ctx: Any, _instances: Any) -> None:
    """Role and permission changes are audited wherever they happen (our services, FAB's own pages)."""
    for obj in list(session.dirty) + list(session.new):
        if isinstance(obj, User) and obj in session.dirty:
            hist = inspect(obj).attrs.roles.history
            if hist.added or hist.deleted:
                session.add(_grant_event("roles_changed", "user", obj.id, obj.username,
                                         {"added": _role_names(hist.added), "removed": _role_names(hist.deleted)}))
        elif isinstance(obj, Role):
            hist = inspect(obj).attrs.permissions.history
            if (hist.added or hist.deleted) and obj in session.dirty:
                session.add(_grant_event("permissions_changed", "role", obj.id, obj.name,
                                         {"added": [str(p) for p in hist.added],
                                          "removed": [str(p) for p in hist.deleted]}))


def _grant_event(kind: str, target_type: str, target_id: Any, name: str, detail: dict[str, Any]) -> AuditEvent:
    origin = request_origin.get() or Origin()
    return AuditEvent(at=clock.now(), kind=kind, success=True, agency_id=origin.agency_id, user_id=origin.user_id,
                      username=origin.username, ip=origin.ip, user_agent=(origin.user_agent or "")[:512] or None,
                      target_type=target_type, target_id=str(target_id), message=name, detail=detail)


_installed = False


def install() -> None:
    """Subscribe to the audit signal and watch grants (idempotent; called at app start)."""
    global _installed
    if _installed:
        return
    signals.audit.connect(_on_audit_signal, weak=False)
    event.listen(Session, "before_flush", _track_grants)
    _installed = True
