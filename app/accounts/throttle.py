"""Sign-in throttling that holds under parallel attempts and across every worker and node.

Each attempt is *reserved* before its password is checked: a compare-and-set on the counter row of every key
it falls under, committed at once on a connection of its own, so sixteen guesses sent together are counted
sixteen times and only the free attempts get a password check. A success gives the reservation back.

Keys: ``acct:`` (the typed login name, hashed: unknown names are throttled exactly like real ones) and ``ip:``
(the client address, against password spraying) for an unknown browser; ``dev:`` alone for a browser the
account already signed in from (a device cookie, OWASP's "device cookie" defence), so guessing from elsewhere
slows the guesser and never locks the owner out of their own office computer.

Past the free attempts each further attempt must wait a delay that doubles (2 s, 4 s, 8 s … up to the
ceiling); a counter left alone for ``forget_hours`` starts again from zero.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.core import clock
from app.core.errors import DomainError
from app.extensions import db

from .models import LoginThrottle

log = logging.getLogger(__name__)
_T = LoginThrottle.__table__
_CAS_TRIES = 200


class LoginThrottledError(DomainError):
    """Too many failed attempts: the next one is allowed after ``retry_after`` seconds."""

    http_status = 429
    code = "login_throttled"

    def __init__(self, retry_after: int, scope: str):
        super().__init__(f"Bạn đã nhập sai mật khẩu nhiều lần. Vui lòng thử lại sau {retry_after} giây.",
                         log=f"login throttled ({scope}) for {retry_after} s")
        self.retry_after = retry_after
        self.scope = scope


@dataclass(frozen=True)
class ThrottlePolicy:
    account_free: int = 5
    address_free: int = 50
    first_delay_seconds: float = 2.0
    max_delay_seconds: float = 900.0
    forget_hours: float = 24.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ThrottlePolicy:
        return cls(
            account_free=int(config.get("QLVB_PASSWORD_MAX_FAILURES", cls.account_free)),
            address_free=int(config.get("QLVB_LOGIN_ADDRESS_MAX_FAILURES", cls.address_free)),
            first_delay_seconds=float(config.get("QLVB_LOGIN_DELAY_SECONDS", cls.first_delay_seconds)),
            max_delay_seconds=float(config.get("QLVB_LOGIN_MAX_DELAY_SECONDS", cls.max_delay_seconds)),
            forget_hours=float(config.get("QLVB_LOGIN_FORGET_HOURS", cls.forget_hours)),
        )

    def delay_after(self, attempts: int, free: int) -> float:
        """Seconds the attempt after the ``attempts``-th must wait."""
        if attempts < free or self.first_delay_seconds <= 0:
            return 0.0
        return min(self.first_delay_seconds * 2.0 ** min(attempts - free, 40), self.max_delay_seconds)


@dataclass(frozen=True)
class ThrottleKey:
    key: str
    free: int


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:60]


def keys_for(login_name: str, address: str | None, device: str | None, policy: ThrottlePolicy) -> list[ThrottleKey]:
    """The counters an attempt falls under (see the module docstring)."""
    if device:
        return [ThrottleKey("dev:" + _digest(device), policy.account_free)]
    keys = [ThrottleKey("ip:" + (address or "?")[:64], policy.address_free)]
    keys.append(ThrottleKey("acct:" + _digest(login_name), policy.account_free))
    return keys


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _next_allowed(now: dt.datetime, policy: ThrottlePolicy, attempts: int, free: int) -> dt.datetime | None:
    # No wait is stored as NULL, never as "now": a parallel attempt whose clock read came a moment earlier
    # (another worker) must not see a free attempt as a wait.
    delay = policy.delay_after(attempts, free)
    return now + dt.timedelta(seconds=delay) if delay > 0 else None


def _reserve_one(conn: Connection, k: ThrottleKey, now: dt.datetime, policy: ThrottlePolicy) -> float:
    """Count one attempt on ``k``; 0 when reserved, else the seconds still to wait (nothing counted)."""
    forget = dt.timedelta(hours=policy.forget_hours)
    for _ in range(_CAS_TRIES):
        # FOR UPDATE (PostgreSQL) queues parallel attempts on the row; SQLite serialises writers anyway and the
        # compare-and-set below stays the guarantee on both.
        row = conn.execute(select(_T.c.attempts, _T.c.last_attempt_at, _T.c.next_allowed_at)
                           .where(_T.c.key == k.key).with_for_update()).first()
        if row is None:
            try:
                conn.execute(insert(_T).values(key=k.key, attempts=1, last_attempt_at=now,
                                               next_allowed_at=_next_allowed(now, policy, 1, k.free)))
                conn.commit()
                return 0.0
            except IntegrityError:
                conn.rollback()  # another worker created it first: go round and count on its row
                continue
        attempts, last, nxt = int(row.attempts), _aware(row.last_attempt_at), _aware(row.next_allowed_at)
        stale = last is None or now - last > forget
        if nxt is not None and nxt > now and not stale:
            conn.rollback()
            return (nxt - now).total_seconds()
        new = 1 if stale else attempts + 1
        done = conn.execute(update(_T).where(_T.c.key == k.key, _T.c.attempts == attempts).values(
            attempts=new, last_attempt_at=now, next_allowed_at=_next_allowed(now, policy, new, k.free)))
        conn.commit()
        if done.rowcount == 1:
            return 0.0
        time.sleep(0.002)
    log.warning("login throttle: no reservation on %s after %d tries (contention)", k.key, _CAS_TRIES)
    return 1.0


def _give_back(conn: Connection, k: ThrottleKey) -> None:
    conn.execute(update(_T).where(_T.c.key == k.key, _T.c.attempts > 0).values(attempts=_T.c.attempts - 1))
    # The delay this attempt set goes with it, unless the failures still counted call for one anyway.
    conn.execute(update(_T).where(_T.c.key == k.key, _T.c.attempts < k.free).values(next_allowed_at=None))
    conn.commit()


def reserve_attempt(keys: Sequence[ThrottleKey], policy: ThrottlePolicy, now: dt.datetime | None = None) -> None:
    """Count this attempt on every key before the password is checked, or raise LoginThrottledError.

    Committed at once on its own connection: the count is visible to every other request at the moment
    it is taken, and survives whatever the rest of the request does."""
    now = now or clock.now()
    taken: list[ThrottleKey] = []
    with db.engine.connect() as conn:
        for k in keys:
            wait = _reserve_one(conn, k, now, policy)
            if wait > 0:
                for done in taken:  # a refused attempt counts nowhere
                    _give_back(conn, done)
                raise LoginThrottledError(max(1, math.ceil(wait)), k.key.split(":", 1)[0])
            taken.append(k)


def attempt_succeeded(keys: Sequence[ThrottleKey]) -> None:
    """The password was right: the account's (or device's) counter starts again, the address gets its
    reservation back (a success proves nothing about the other accounts guessed from there)."""
    with db.engine.connect() as conn:
        for k in keys:
            if k.key.startswith("ip:"):
                _give_back(conn, k)
            else:
                conn.execute(update(_T).where(_T.c.key == k.key).values(attempts=0, next_allowed_at=None))
                conn.commit()


def reset_account(login_name: str) -> None:
    """An admin clears the counter of an account name (e.g. after an attack from unknown browsers)."""
    with db.engine.connect() as conn:
        conn.execute(update(_T).where(_T.c.key == "acct:" + _digest(login_name))
                     .values(attempts=0, next_allowed_at=None))
        conn.commit()


def attempts_of(login_name: str) -> int:
    """Attempts counted on the account name (reads, for tests and the admin's view)."""
    row = db.session.get(LoginThrottle, "acct:" + _digest(login_name))
    return int(row.attempts) if row is not None else 0
