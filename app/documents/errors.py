"""Errors of the documents domain; every message is shown to the clerk as it is."""

from __future__ import annotations

import datetime as dt

from app.core.errors import ConflictError, PermissionDeniedError, RefusedError, ServiceUnavailableError, ValidationError


class DocumentRefusedError(RefusedError):
    """Art 7 of QĐ 52/2014/QĐ-UBND: this kind of document may not go through the software at all."""

    code = "document_refused"

    def __init__(self, message: str, *, reason: str):
        super().__init__(message)
        self.reason = reason  # "classified", "denunciation", "special"


class DuplicateDocumentError(ConflictError):
    """The same number/notation from the same issuer was registered already this year (Phụ lục VI III.1.h)."""

    code = "duplicate_document"

    def __init__(self, *, earlier_id: int, earlier_number: int | None, earlier_registered_at: dt.datetime | None,
                 number_notation: str, issuer_name: str):
        when = earlier_registered_at.astimezone(_vn()).strftime("%d/%m/%Y") if earlier_registered_at else ""
        number = f"số đến {earlier_number:02d}" if earlier_number else "chưa có số đến"
        super().__init__(
            f"Văn bản số {number_notation} của {issuer_name} đã được vào sổ ({number}, ngày {when}). "
            "Nếu đây đúng là một văn bản khác, hãy xác nhận để vào sổ tiếp."
        )
        self.earlier_id = earlier_id
        self.earlier_number = earlier_number


class AttachmentRefusedError(ValidationError):
    """A file the rules do not accept (type, size, damaged or encrypted PDF, scan below PDF 1.4)."""

    code = "attachment_refused"

    def __init__(self, message: str, *, filename: str, log: str | None = None):
        super().__init__(message, field_errors={"files": [message]}, details=[filename], log=log)
        self.filename = filename


class SigningNotConfiguredError(ServiceUnavailableError):
    code = "signing_not_configured"


class DocumentStateError(ConflictError):
    """The document is not in the state the action needs (e.g. issuing a draft twice)."""

    code = "document_state"


def _vn() -> dt.tzinfo:
    from app.core.clock import VN_TZ

    return VN_TZ


class SignerMismatchError(PermissionDeniedError):
    """The certificate that would sign belongs to someone other than the signing official (Art 8 QĐ 52/2014)."""

    code = "signer_mismatch"
