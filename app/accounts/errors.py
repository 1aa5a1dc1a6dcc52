"""Errors of the accounts domain (Vietnamese messages shown as they are)."""

from __future__ import annotations

from app.core.errors import ConflictError, PermissionDeniedError, RefusedError, ValidationError


class WeakPasswordError(ValidationError):
    code = "weak_password"


class PasswordReusedError(ValidationError):
    code = "password_reused"


class AccountLockedError(PermissionDeniedError):
    code = "account_locked"


class MaintenanceTooSoonError(RefusedError):
    code = "maintenance_too_soon"


class BackupCorruptedError(RefusedError):
    code = "backup_corrupted"


class AccountStateError(ConflictError):
    code = "account_state"
