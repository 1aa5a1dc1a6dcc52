"""Errors of mail intake."""

from __future__ import annotations

from app.core.errors import ServiceUnavailableError, ValidationError


class MailboxSettingsError(ValidationError):
    """The mailbox settings cannot be used as entered (password reference, folder, port)."""

    code = "mailbox_settings"


class MailboxUnavailableError(ServiceUnavailableError):
    """The IMAP server could not be reached or refused the login; the message says which, in Vietnamese."""

    code = "mailbox_unavailable"


class MailboxSecretError(MailboxSettingsError):
    """The sealed password cannot be opened (the key changed) or the referenced variable is missing."""

    code = "mailbox_secret"


class MailRefused(Exception):
    """The message is not accepted; ``reason`` is the Vietnamese sentence recorded for it."""

    def __init__(self, reason: str, log_detail: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.log_detail = log_detail or reason
