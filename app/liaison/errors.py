"""Why a message could not leave or was not taken in."""

from __future__ import annotations

from app.core.errors import DomainError, ServiceUnavailableError


class NoRouteError(ServiceUnavailableError):
    """No connector reaches that recipient yet (no external axis configured): kept and retried."""

    code = "exchange_no_route"


class UnknownRecipientError(DomainError):
    http_status = 422
    code = "exchange_unknown_recipient"
