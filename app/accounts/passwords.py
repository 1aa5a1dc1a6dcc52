"""Password changes, expiry and lockout of database accounts. Services: they flush, the caller commits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.core import clock
from app.core.errors import NotFoundError
from app.extensions import db
from app.tenancy.queries import staff_for_user

from .errors import PasswordReusedError, WeakPasswordError
from .hashing import hash_password, verify_password
from .models import AccountSecurity, PasswordHistory
from .policy import PasswordPolicy, password_problems
from .sessions import end_sessions


@dataclass(frozen=True)
class LoginCheckResult:
    ok: bool
    reason: str  # "ok" or "bad_password"


def security_of(user_id: int) -> AccountSecurity:
    row = db.session.get(AccountSecurity, user_id)
    if row is None:
        # Created on first use; two logins of a new account in parallel must not both try (a 500 on the
        # loser's unique key): insert-or-nothing, then read whichever row won.
        insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        db.session.execute(insert(AccountSecurity.__table__).values(
            user_id=user_id, failed_count=0, must_change_password=False, directory_account=False,
            session_version=0).on_conflict_do_nothing(index_elements=["user_id"]))
        row = db.session.get(AccountSecurity, user_id)
    if row is None:  # pragma: no cover - the insert above or a concurrent one made it
        raise NotFoundError("Không tìm thấy tài khoản.")
    return row


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes even for timezone=True columns; we only ever store UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def password_change_required(user_id: int, policy: PasswordPolicy, now: dt.datetime | None = None) -> bool:
    """True when an admin set the password (first login) or it is older than the policy allows."""
    return change_required(db.session.get(AccountSecurity, user_id), policy, now)


def change_required(row: AccountSecurity | None, policy: PasswordPolicy, now: dt.datetime | None = None) -> bool:
    """``password_change_required`` of a row already loaded (None: the account has no security row)."""
    if row is None or row.directory_account:
        return False
    if row.must_change_password:
        return True
    changed = _aware(row.password_changed_at)
    if changed is None or policy.max_age_days <= 0:
        return False
    return (now or clock.now()) - changed > dt.timedelta(days=policy.max_age_days)


def check_password_login(user: User, password: str, policy: PasswordPolicy,
                         now: dt.datetime | None = None) -> LoginCheckResult:
    """Verify a database password. Throttling happened before (app.accounts.throttle): nothing here locks."""
    now = now or clock.now()
    sec = security_of(user.id)
    ok, rehash = verify_password(user.password, password)
    if not ok:
        return record_failed_login(user.id, policy, now)
    sec.failed_count = 0
    sec.locked_until = None
    if rehash:
        user.password = hash_password(password)
    if sec.password_changed_at is None:
        # Accounts older than this module: their age starts counting now rather than forcing everyone at once.
        sec.password_changed_at = now
    db.session.flush()
    return LoginCheckResult(True, "ok")


def record_failed_login(user_id: int, policy: PasswordPolicy, now: dt.datetime | None = None) -> LoginCheckResult:
    """Count a wrong password (database or directory) for the admin's eyes. It never locks the account:
    a lockout would let anyone who knows an official's address keep them out (progressive delay instead)."""
    now = now or clock.now()
    sec = security_of(user_id)
    sec.failed_count = (sec.failed_count or 0) + 1
    sec.last_failed_at = now
    db.session.flush()
    return LoginCheckResult(False, "bad_password")


def _reused(user_id: int, password: str, current_hash: str | None, keep: int) -> bool:
    if keep <= 0:
        return False
    if verify_password(current_hash, password)[0]:
        return True
    rows = db.session.scalars(select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user_id)
                              .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc()).limit(keep))
    return any(verify_password(h, password)[0] for h in rows)


def set_password(user_id: int, new_password: str, policy: PasswordPolicy, *, by_admin: bool,
                 now: dt.datetime | None = None) -> None:
    """Check the policy and the history, then store an argon2 hash. An admin-set password must be changed
    by its owner at the next login. Every session of the account ends, copies of the owner's own cookie
    included: the owner's browser gets a fresh session from the caller (app.admin.security.rotate_session)."""
    now = now or clock.now()
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFoundError("Không tìm thấy tài khoản.")
    staff = staff_for_user(user_id)
    problems = password_problems(new_password, policy, email=user.email or user.username or "",
                                 full_name=staff.full_name if staff else f"{user.last_name} {user.first_name}")
    if problems:
        raise WeakPasswordError("Mật khẩu chưa đạt yêu cầu.", details=problems,
                                field_errors={"password": problems})
    if _reused(user_id, new_password, user.password, policy.history):
        raise PasswordReusedError(f"Không được dùng lại mật khẩu hiện tại hoặc {policy.history} mật khẩu gần nhất.",
                                  field_errors={"password": ["Mật khẩu này đã được dùng gần đây."]})
    if user.password:
        db.session.add(PasswordHistory(user_id=user_id, password_hash=user.password, created_at=now))
    user.password = hash_password(new_password)
    sec = security_of(user_id)
    sec.password_changed_at = now
    sec.must_change_password = by_admin
    sec.failed_count = 0
    sec.locked_until = None
    sec.session_version = (sec.session_version or 0) + 1
    end_sessions(user_id, reason="password_reset" if by_admin else "password_changed")
    _trim_history(user_id, policy.history)
    db.session.flush()


def _trim_history(user_id: int, keep: int) -> None:
    db.session.flush()
    ids = list(db.session.scalars(select(PasswordHistory.id).where(PasswordHistory.user_id == user_id)
                                  .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
                                  .offset(max(keep, 0))))
    for old in ids:
        db.session.delete(db.session.get(PasswordHistory, old))


def unlock_account(user_id: int) -> None:
    sec = security_of(user_id)
    sec.locked_until = None
    sec.failed_count = 0
    db.session.flush()


def mark_directory_account(user_id: int) -> None:
    sec = security_of(user_id)
    if not sec.directory_account:
        sec.directory_account = True
        sec.must_change_password = False
    sec.failed_count = 0
    sec.locked_until = None
    db.session.flush()


def session_version(user_id: int) -> int:
    row = db.session.get(AccountSecurity, user_id)
    return int(row.session_version) if row else 0
