"""Who is calling: a system account's bearer token, on its own agency's host, within its scopes and rate limit.

Only the ``Authorization: Bearer`` header is read: a browser's session cookie never authenticates the API (and
the blueprint is exempt from CSRF for that reason). A token of agency A on agency B's host is refused like an
unknown one (401), so it learns nothing of B.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, request
from limits import RateLimitItemPerMinute, storage, strategies

from app.accounts import api_clients
from app.accounts.api_clients import ApiClientInfo
from app.accounts.audit import Origin, request_origin
from app.core.errors import DomainError, PermissionDeniedError
from app.workflow.info import ActorRef

log = logging.getLogger("qlvb.api")

# The API acts as the agency's registry would: it sees what a clerk sees (every document of its agency) and may
# register incoming documents; its scopes decide which of the endpoints it may call at all.
API_ROLES = frozenset({"clerk"})
_LIMITER_KEY = "qlvb_api_limiter"


class UnauthorizedError(DomainError):
    http_status = 401
    code = "unauthorized"


class RateLimitedError(DomainError):
    http_status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Caller:
    client: ApiClientInfo
    actor: ActorRef


def current_caller() -> Caller:
    caller = getattr(g, "api_caller", None)
    if caller is None:  # every API route runs after authenticate(); reaching this is a wiring mistake
        raise UnauthorizedError("Cần mã truy cập của tài khoản hệ thống")
    return caller  # type: ignore[no-any-return]


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("Cần mã truy cập của tài khoản hệ thống (tiêu đề Authorization: Bearer …)")
    return token.strip()


def authenticate() -> Caller:
    """The caller of this request, or UnauthorizedError; also counts the call against its rate limit."""
    agency = getattr(g, "agency", None)
    token = _bearer()
    client = api_clients.authenticate(token)
    if client is None or agency is None or client.agency_id != agency.id:
        if client is not None:
            log.warning("api token of client %s (agency %s) used on the host of agency %s from %s", client.id,
                        client.agency_id, getattr(agency, "id", None), request.remote_addr)
        raise UnauthorizedError("Mã truy cập không hợp lệ, đã bị thu hồi hoặc không thuộc cơ quan này")
    _count(client)
    api_clients.touch(client)
    actor = ActorRef(user_id=client.user_id, agency_id=client.agency_id, roles=API_ROLES)
    caller = Caller(client=client, actor=actor)
    g.api_caller = caller
    # What the audit log records for this request: the client's own account, from this address.
    g._qlvb_api_origin = request_origin.set(Origin(
        ip=request.remote_addr, user_agent=request.headers.get("User-Agent", "")[:512], user_id=client.user_id,
        username=f"Hệ thống: {client.name}"[:255], agency_id=client.agency_id))
    return caller


def require_scope(caller: Caller, scope: str | None) -> None:
    if scope is not None and not caller.client.allows(scope):
        log.warning("api client %s refused %s %s: no scope %s", caller.client.id, request.method, request.path,
                    scope)
        raise PermissionDeniedError(f"Tài khoản hệ thống không được cấp phạm vi quyền “{scope}”")


def reset_origin(_exc: BaseException | None) -> None:
    token = g.pop("_qlvb_api_origin", None)
    if token is not None:
        request_origin.reset(token)


# -- rate limits ------------------------------------------------------------------------------------------------
def _limiter() -> strategies.FixedWindowRateLimiter:
    return current_app.extensions[_LIMITER_KEY]  # type: ignore[no-any-return]


def _count(client: ApiClientInfo) -> None:
    per_minute = client.rate_limit or int(current_app.config.get("QLVB_API_RATE_LIMIT") or 120)
    item = RateLimitItemPerMinute(per_minute)
    limiter = _limiter()
    key = f"api-client-{client.id}"
    try:
        allowed = limiter.hit(item, key)
    except Exception as exc:  # the counter's store is down: serve, and say so to the admin)
        log.error("api rate limit store unavailable, call of client %s not counted: %s", client.id, exc)
        return
    if allowed:
        return
    try:
        reset_at = limiter.get_window_stats(item, key).reset_time
    except Exception:  # the same store: a fixed window is at most a minute
        reset_at = time.time() + 60
    retry_after = max(1, math.ceil(reset_at - time.time()))
    log.warning("api client %s over its limit of %s calls a minute", client.id, per_minute)
    raise RateLimitedError(f"Vượt giới hạn {per_minute} lần gọi mỗi phút; thử lại sau {retry_after} giây",
                           retry_after=retry_after)


def install_limiter(app: Flask) -> None:
    """Counters where the login limits keep theirs (RATELIMIT_STORAGE_URI: Redis when one is configured, shared by
    every node and worker; this process's memory otherwise)."""
    uri = str(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    app.extensions[_LIMITER_KEY] = strategies.FixedWindowRateLimiter(storage.storage_from_string(uri))


def operation_scope(view: Any) -> str | None:
    op = getattr(view, "_api_operation", None)
    return op.scope if op is not None else None
