"""Server-side sessions: the signed cookie carries a random id, the row says whether it still counts.

Logging out ends this browser's row; a password change ends every other; an administrator, or revoking the
account, ends them all. A copy of the cookie taken before any of these is worth nothing afterwards.

Lifetimes run on the wall clock, not on ``app.core.clock``: a session's age is real elapsed time, while the
business clock may be frozen days away (tests, or a replay of deadlines).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update

from app.extensions import db

from .models import UserSession

log = logging.getLogger(__name__)
_T = UserSession.__table__
# last_seen_at is written at most this often (a write per request would serialise every page view).
TOUCH_EVERY = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class SessionInfo:
    id: str
    user_id: int
    created_at: dt.datetime
    last_seen_at: dt.datetime
    ip: str | None
    user_agent: str | None


def wall_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _key(token: str) -> str:
    # The database never holds what the cookie holds: a leaked table opens no session.
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def open_session(user_id: int, *, lifetime: dt.timedelta, ip: str | None = None,
                 user_agent: str | None = None) -> str:
    """A new session row; returns the token to put in the cookie. Flushes (the login's commit keeps it)."""
    token = secrets.token_urlsafe(32)
    now = wall_now()
    db.session.add(UserSession(id=_key(token), user_id=user_id, created_at=now, last_seen_at=now,
                               expires_at=now + lifetime, ip=(ip or "")[:64] or None,
                               user_agent=(user_agent or "")[:512] or None))
    db.session.flush()
    return token


def session_is_live(token: str | None, user_id: int, *, idle: dt.timedelta | None = None) -> bool:
    """True while the token's row belongs to the user and is neither revoked, expired nor idle too long."""
    if not token or not isinstance(token, str) or len(token) > 128:
        return False
    row = db.session.execute(select(_T.c.user_id, _T.c.expires_at, _T.c.last_seen_at, _T.c.revoked_at)
                             .where(_T.c.id == _key(token))).first()
    now = wall_now()
    if row is None or row.user_id != user_id or row.revoked_at is not None or _aware(row.expires_at) <= now:
        return False
    last = _aware(row.last_seen_at)
    if idle is not None and idle.total_seconds() > 0 and now - last > idle:
        _end(_key(token), "idle")
        return False
    if now - last > TOUCH_EVERY:
        with db.engine.connect() as conn:  # its own short transaction: a GET commits nothing else
            conn.execute(update(_T).where(_T.c.id == _key(token)).values(last_seen_at=now))
            conn.commit()
    return True


def _end(key: str, reason: str) -> None:
    with db.engine.connect() as conn:
        conn.execute(update(_T).where(_T.c.id == key, _T.c.revoked_at.is_(None))
                     .values(revoked_at=wall_now(), revoked_reason=reason))
        conn.commit()


def end_session(token: str | None, reason: str = "logout") -> None:
    """This browser's session ends at once (committed on its own: logout must hold whatever follows)."""
    if token and isinstance(token, str):
        _end(_key(token), reason)


def end_session_in_transaction(token: str, reason: str) -> None:
    """Like end_session, inside the caller's transaction (when it already writes, e.g. a login)."""
    db.session.execute(update(_T).where(_T.c.id == _key(token), _T.c.revoked_at.is_(None))
                       .values(revoked_at=wall_now(), revoked_reason=reason))


def end_sessions(user_id: int, *, reason: str, keep: str | None = None) -> int:
    """End every session of the user (but ``keep``, the caller's own); part of the caller's transaction."""
    stmt = update(_T).where(_T.c.user_id == user_id, _T.c.revoked_at.is_(None))
    if keep:
        stmt = stmt.where(_T.c.id != _key(keep))
    done = db.session.execute(stmt.values(revoked_at=wall_now(), revoked_reason=reason))
    count = int(getattr(done, "rowcount", 0) or 0)
    log.info("%d session(s) of user %s ended: %s", count, user_id, reason)
    return count


def live_sessions(user_id: int) -> list[SessionInfo]:
    now = wall_now()
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == user_id,
                                                        UserSession.revoked_at.is_(None))
                              .order_by(UserSession.last_seen_at.desc()))
    return [SessionInfo(r.id, r.user_id, r.created_at, r.last_seen_at, r.ip, r.user_agent)
            for r in rows if _aware(r.expires_at) > now]
