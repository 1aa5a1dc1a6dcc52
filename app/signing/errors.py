"""Errors of signing and verifying; messages are shown to the user as they are."""

from __future__ import annotations

from app.core.errors import ConflictError, DomainError, ServiceUnavailableError, ValidationError


class SigningError(DomainError):
    code = "signing_error"


class SignerKeyError(SigningError):
    """The key store could not be opened (wrong passphrase or PIN, missing file or token)."""

    code = "signer_key"


class SignerDeviceError(ServiceUnavailableError):
    """The PKCS#11 module or token is not reachable."""

    code = "signer_device"


class SignatureFieldConflictError(ConflictError):
    code = "signature_field_signed"


class PdfUnreadableError(ValidationError):
    """The file is not a PDF we can read (damaged, truncated, encrypted)."""

    code = "pdf_unreadable"
