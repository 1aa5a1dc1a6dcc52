"""Tables of the accounts domain. FAB's ab_user stays untouched; what we add hangs off it by user_id."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.extensions import Model

JsonType = JSON().with_variant(JSONB(), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")


class AccountSecurity(Model):
    """Password age, lockout state and how the account last proved its password (one row per user)."""

    __tablename__ = "account_security"

    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    failed_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_failed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Once the provincial directory has vouched for an account, only the directory may: its stale
    # database password must never open it again (see README, "LDAP").
    directory_account: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Bumped on revocation and password change; sessions carrying an older number are logged out.
    session_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class LoginThrottle(Model):
    """Failed sign-in attempts of one key ("acct:…", "ip:…", "dev:…"), shared by every worker and node.

    An attempt is counted *before* its password is checked, by a compare-and-set on ``attempts``, so parallel
    guesses cannot slip past the count; a success resets it. Past the free attempts each further one must
    wait ``next_allowed_at`` (a delay that doubles): the owner is slowed, never locked out."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    next_allowed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class UserSession(Model):
    """One signed-in browser. The cookie carries only a random id whose SHA-256 is the key here; a session
    is honoured while its row is neither revoked nor expired (logout, password change, admin revocation)."""

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_user", "user_id", "revoked_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=clock.now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=clock.now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))


class PasswordHistory(Model):
    __tablename__ = "password_history"
    __table_args__ = (Index("ix_password_history_user", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(256), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=clock.now)


class AuditEvent(Model):
    """Who did what, when, from where (Art 9, 10). Append-only: nothing in the app updates or deletes it."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_agency_at", "agency_id", "at"),
        Index("ix_audit_event_user_at", "user_id", "at"),
        Index("ix_audit_event_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=clock.now, index=True)
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    success: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    # No foreign key: the trail must survive whatever happens to the account, and keeps the name typed.
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JsonType)


class MaintenanceWindow(Model):
    """Planned maintenance announced by SoICT at least 3 days ahead (Art 10.1)."""

    __tablename__ = "maintenance_window"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=clock.now)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    notified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    notified_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class TaskReassignment(Model):
    """An open workflow task whose holder's account was revoked: the agency admin must hand it on."""

    __tablename__ = "task_reassignment"
    __table_args__ = (Index("ix_task_reassignment_agency_open", "agency_id", "resolved_at"),)

    human_task_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), nullable=False)
    flagged_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=clock.now)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ApiClient(Model):
    """A system account (tài khoản hệ thống) of one agency: another system calling the JSON API (app/api).

    Only the SHA-256 of its token is kept (the token is shown once, at creation or rotation). It acts as its own
    ab_user row, never active for a login, so what it registers names it (created_by, audit log, workflow)."""

    __tablename__ = "api_client"
    __table_args__ = (Index("ix_api_client_agency", "agency_id", "id"),
                      UniqueConstraint("token_hash", name="uq_api_client_token_hash"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    scopes: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # The token's first characters, shown to the admin to tell tokens apart (never enough to use one).
    token_prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    # Requests per minute; None: QLVB_API_RATE_LIMIT.
    rate_limit: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    rotated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class StaffImport(Model):
    """One bulk import of staff (a file or a selection from the directory) between its preview and its confirm.

    What was uploaded is kept until the import is confirmed (the confirm re-reads exactly what was previewed);
    generated passwords never are: they leave once, in the result file of the confirming response."""

    __tablename__ = "staff_import"
    __table_args__ = (Index("ix_staff_import_agency_at", "agency_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=clock.now)
    source: Mapped[str] = mapped_column(String(16), nullable=False)  # "csv", "xlsx" or "directory"
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="previewed")  # previewed | imported
    imported_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    imported_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
