"""The DomainError tree: every error a user can see carries a precise Vietnamese message.

Views never build messages themselves; one error handler (app.web.errors) maps these to HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence


class DomainError(Exception):
    """Base of every expected failure. ``message`` is shown to the user (Vietnamese)."""

    http_status = 400
    code = "domain_error"
    # How loud the admin's log line is: most are the user's mistake (WARNING); some mean lost data (ERROR).
    log_level = logging.WARNING

    def __init__(self, message: str, *, details: Sequence[str] | None = None, log: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = list(details or [])
        # What the admin's log line says; defaults to the user message.
        self.log = log or message

    def __str__(self) -> str:
        if self.details:
            return self.message + ": " + "; ".join(self.details)
        return self.message


class NotFoundError(DomainError):
    http_status = 404
    code = "not_found"


class PermissionDeniedError(DomainError):
    http_status = 403
    code = "permission_denied"


class ConflictError(DomainError):
    """The state changed under the user (stale form, task already completed, duplicate)."""

    http_status = 409
    code = "conflict"


class ValidationError(DomainError):
    """Input refused; ``field_errors`` maps a field name to its Vietnamese messages."""

    http_status = 422
    code = "validation_error"

    def __init__(
        self,
        message: str,
        *,
        field_errors: Mapping[str, Sequence[str]] | None = None,
        details: Sequence[str] | None = None,
        log: str | None = None,
    ):
        super().__init__(message, details=details, log=log)
        self.field_errors = {k: list(v) for k, v in (field_errors or {}).items()}


class RefusedError(DomainError):
    """Input that the rules forbid outright (e.g. a classified document, Art 7)."""

    http_status = 422
    code = "refused"


class ServiceUnavailableError(DomainError):
    http_status = 503
    code = "unavailable"


class ConfigurationError(DomainError):
    """The deployment is configured so that it must not start (raised by create_app; the process exits).

    The message is bilingual: the people who read a failing unit's journal are not always Vietnamese speakers."""

    http_status = 500
    code = "configuration"
