"""The connector interface and what crosses it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from app.core.errors import DomainError, ServiceUnavailableError


@dataclass(frozen=True)
class AxisMessage:
    """One message waiting for us on the axis. ``id`` is the axis's own, for ``ack``."""

    id: str
    kind: str
    document_id: str
    sender_org: str
    recipient_org: str
    payload: bytes = field(repr=False)
    code: str = ""


@dataclass(frozen=True)
class SendResult:
    remote_ids: tuple[str, ...] = ()
    duplicate: bool = False  # the axis had this message already (a retry after a lost answer)


class AxisError(DomainError):
    code = "axis_error"


class AxisUnavailableError(AxisError, ServiceUnavailableError):
    """Transient: the axis could not be reached or failed; the outbox tries again later."""

    http_status = 503
    code = "axis_unavailable"


class AxisRefusedError(AxisError):
    """The axis refused the message itself (unknown recipient, broken package, bad credentials)."""

    http_status = 422
    code = "axis_refused"


class Connector(Protocol):
    name: str

    def send(self, payload: bytes, *, kind: str, document_id: str, sender_org: str, recipient_org: str,
             code: str = "") -> SendResult: ...

    def poll(self, limit: int = 50) -> list[AxisMessage]: ...

    def ack(self, message_id: str) -> None: ...

    def status(self, message_id: str) -> str: ...
