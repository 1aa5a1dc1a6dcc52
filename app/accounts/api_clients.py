"""System accounts (tài khoản hệ thống) of an agency for the JSON API: create, rotate, revoke, authenticate.

A token is ``qlvb_`` + 43 URL-safe characters (256 random bits); only its SHA-256 is stored, so a leaked
database gives no usable token, and the token is shown to the agency admin once. Each client acts as its own
ab_user row (``api.<agency>.<n>``, never active, no password): what it registers or reads names it, not a clerk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select

from app.core import clock
from app.core.errors import NotFoundError, ValidationError
from app.core.text import nfc
from app.extensions import db

from .audit import record_event
from .models import ApiClient

log = logging.getLogger("qlvb.api_clients")

TOKEN_PREFIX = "qlvb_"  # noqa: S105  (what every token starts with, not a secret)
# What a client may be allowed to do; the labels are what the agency admin reads.
SCOPES: dict[str, str] = {
    "documents:read": "Đọc văn bản đến, văn bản đi, tệp đính kèm, sổ và tình trạng gửi",
    "documents:write": "Vào sổ văn bản đến (kèm tệp)",
    "tasks:read": "Đọc các việc đang mở của cơ quan",
    "exchange:read": "Đọc hộp thư liên thông (gửi đi, nhận về)",
}
MAX_RATE_LIMIT = 100_000
# last_used_at is written at most this often per client (a busy client must not write its row on every call).
TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class ApiClientInfo:
    id: int
    agency_id: int
    user_id: int
    name: str
    scopes: tuple[str, ...]
    token_prefix: str
    rate_limit: int | None
    active: bool
    created_at: dt.datetime
    rotated_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


@dataclass(frozen=True)
class IssuedToken:
    """A client and its token, in the clear this one time."""

    client: ApiClientInfo
    token: str


def _info(row: ApiClient) -> ApiClientInfo:
    return ApiClientInfo(id=row.id, agency_id=row.agency_id, user_id=row.user_id, name=row.name,
                         scopes=tuple(row.scopes or ()), token_prefix=row.token_prefix, rate_limit=row.rate_limit,
                         active=row.active, created_at=row.created_at, rotated_at=row.rotated_at,
                         revoked_at=row.revoked_at, last_used_at=row.last_used_at)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _checked_scopes(scopes: Iterable[str]) -> list[str]:
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise ValidationError("Phạm vi quyền không hợp lệ", field_errors={"scopes": [
            f"Không có phạm vi “{s[:40]}”" for s in unknown]})
    if not wanted:
        raise ValidationError("Chọn ít nhất một phạm vi quyền", field_errors={"scopes": ["Chọn ít nhất một"]})
    return wanted


def _checked_name(name: str | None) -> str:
    text = nfc((name or "").strip())
    if not text:
        raise ValidationError("Tên hệ thống không được để trống", field_errors={"name": ["Không được để trống"]})
    if len(text) > 120:
        raise ValidationError("Tên hệ thống quá dài", field_errors={"name": ["Không quá 120 ký tự"]})
    return text


def _checked_rate(rate_limit: int | None) -> int | None:
    if rate_limit is None:
        return None
    if not 1 <= rate_limit <= MAX_RATE_LIMIT:
        raise ValidationError("Giới hạn số lần gọi không hợp lệ", field_errors={
            "rate_limit": [f"Từ 1 đến {MAX_RATE_LIMIT} lần mỗi phút"]})
    return rate_limit


def create_api_client(agency_id: int, agency_code: str, *, name: str, scopes: Iterable[str],
                      rate_limit: int | None = None, by_user_id: int | None = None) -> IssuedToken:
    """A new system account of the agency with a fresh token (returned once, never stored)."""
    text, wanted, rate = _checked_name(name), _checked_scopes(scopes), _checked_rate(rate_limit)
    now = clock.now()
    tag = secrets.token_hex(4)
    # Its own account, never active: FAB's login refuses it, staff lists (Staff rows) never show it.
    user = User(username=f"api.{agency_code}.{tag}", email=f"api.{tag}@{agency_code}.api.invalid",
                first_name="Hệ thống", last_name=text[:64], active=False, password=None)
    db.session.add(user)
    db.session.flush()
    token = _new_token()
    row = ApiClient(agency_id=agency_id, user_id=user.id, name=text, scopes=wanted, token_hash=token_hash(token),
                    token_prefix=token[:12], rate_limit=rate, active=True, created_at=now, created_by_id=by_user_id)
    db.session.add(row)
    db.session.flush()
    record_event("api_client_created", agency_id=agency_id, target_type="api_client", target_id=row.id,
                 message=text, detail={"scopes": wanted})
    log.info("api client %s (%s) created in agency %s with scopes %s", row.id, text, agency_id, wanted)
    return IssuedToken(_info(row), token)


def _own(agency_id: int, client_id: int) -> ApiClient:
    row = db.session.get(ApiClient, client_id)
    if row is None or row.agency_id != agency_id:
        raise NotFoundError("Không tìm thấy tài khoản hệ thống")
    return row


def rotate_api_client(agency_id: int, client_id: int, *, by_user_id: int | None = None) -> IssuedToken:
    """A new token for the client; the old one stops working at once."""
    row = _own(agency_id, client_id)
    if not row.active:
        raise ValidationError("Tài khoản hệ thống đã bị thu hồi: hãy tạo tài khoản mới")
    token = _new_token()
    row.token_hash, row.token_prefix, row.rotated_at = token_hash(token), token[:12], clock.now()
    record_event("api_client_rotated", agency_id=agency_id, target_type="api_client", target_id=row.id,
                 message=row.name, detail={"by_user_id": by_user_id} if by_user_id else None)
    log.info("api client %s token rotated in agency %s", row.id, agency_id)
    return IssuedToken(_info(row), token)


def revoke_api_client(agency_id: int, client_id: int, *, by_user_id: int | None = None) -> ApiClientInfo:
    """The client's token stops working for good (the row stays for the audit trail)."""
    row = _own(agency_id, client_id)
    if row.active:
        row.active, row.revoked_at = False, clock.now()
        record_event("api_client_revoked", agency_id=agency_id, target_type="api_client", target_id=row.id,
                     message=row.name, detail={"by_user_id": by_user_id} if by_user_id else None)
        log.info("api client %s revoked in agency %s", row.id, agency_id)
    return _info(row)


def list_api_clients(agency_id: int) -> list[ApiClientInfo]:
    rows = db.session.scalars(select(ApiClient).where(ApiClient.agency_id == agency_id).order_by(ApiClient.id))
    return [_info(r) for r in rows]


def authenticate(token: str) -> ApiClientInfo | None:
    """The active client holding ``token``, or None (unknown, rotated away or revoked)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = db.session.scalar(select(ApiClient).where(ApiClient.token_hash == token_hash(token)))
    if row is None or not row.active:
        return None
    return _info(row)


def touch(client: ApiClientInfo, now: dt.datetime | None = None) -> None:
    """Note when the client was last seen (at most once a minute, so calls do not queue on its row)."""
    now = now or clock.now()
    if client.last_used_at is not None and now - client.last_used_at < TOUCH_EVERY:
        return
    row = db.session.get(ApiClient, client.id)
    if row is not None:
        row.last_used_at = now
