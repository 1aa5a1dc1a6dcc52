"""PAdES signing and verification. The only package that imports pyHanko."""

from app.signing.errors import (
    PdfUnreadableError,
    SignatureFieldConflictError,
    SignerDeviceError,
    SignerKeyError,
    SigningError,
)
from app.signing.keys import HolderInfo, clear_signer_cache, signer_holder
from app.signing.refs import (
    CscSignerRef,
    LongTermRef,
    Pkcs11SignerRef,
    Pkcs12SignerRef,
    RevocationPolicy,
    SignerRef,
    TsaRef,
)
from app.signing.sign import sign_pdf
from app.signing.verify import REVOCATION_MODES, STATUS_LABELS, SignatureInfo, VerificationResult, verify_pdf

__all__ = [
    "REVOCATION_MODES",
    "STATUS_LABELS",
    "CscSignerRef",
    "HolderInfo",
    "LongTermRef",
    "PdfUnreadableError",
    "Pkcs11SignerRef",
    "Pkcs12SignerRef",
    "RevocationPolicy",
    "SignatureFieldConflictError",
    "SignatureInfo",
    "SignerDeviceError",
    "SignerKeyError",
    "SignerRef",
    "SigningError",
    "TsaRef",
    "VerificationResult",
    "clear_signer_cache",
    "sign_pdf",
    "signer_holder",
    "verify_pdf",
]
