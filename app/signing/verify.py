"""Verify the signatures of a PDF against configured trust roots, and say plainly what holds."""

from __future__ import annotations

import datetime as dt
import functools
import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import pem, x509
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from app.core.clock import now
from app.signing.errors import PdfUnreadableError

STATUS_LABELS = {
    "valid": "Chữ ký số hợp lệ",
    "untrusted": "Chứng thư số không do tổ chức chứng thực tin cậy cấp",
    "modified": "Văn bản đã bị thay đổi sau khi ký",
    "expired": "Chứng thư số đã hết hạn",
    "invalid": "Chữ ký số không hợp lệ",
    "unsigned": "Văn bản chưa được ký số",
}
# Worst first: the document's status is that of its worst signature.
_SEVERITY = ("invalid", "modified", "expired", "untrusted", "valid")


@dataclass(frozen=True)
class SignatureInfo:
    field_name: str
    signer_name: str  # common name of the signing certificate
    signer_organization: str | None
    signing_time: dt.datetime | None  # as claimed by the signer (no timestamp: not proven)
    intact: bool  # the signed bytes are unchanged
    valid: bool  # the cryptographic signature matches
    trusted: bool  # the certificate chains to one of the trust roots
    expired: bool  # the certificate is outside its validity period at validation time
    modified_after_signing: bool  # later revisions go beyond adding signatures / filling forms
    coverage: str  # "entire_file", "entire_revision", "partial", "unclear"
    timestamped: bool
    status: str
    label: str


@dataclass(frozen=True)
class VerificationResult:
    status: str  # "valid", "untrusted", "modified", "expired", "invalid", "unsigned"
    label: str
    signatures: tuple[SignatureInfo, ...]


@functools.lru_cache(maxsize=32)
def _roots(trust_roots: tuple[bytes, ...]) -> tuple[x509.Certificate, ...]:
    """Parse once: the same configured roots are used for every verification."""
    parsed = []
    for data in trust_roots:
        if pem.detect(data):
            parsed.extend(x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True))
        else:
            parsed.append(x509.Certificate.load(data))
    return tuple(parsed)


def _read(pdf: bytes) -> PdfFileReader:
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        encrypted = reader.encrypted
        if not encrypted:
            reader.embedded_signatures  # noqa: B018 - parses the form tree now, inside the try
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise PdfUnreadableError(
            "Tệp PDF bị hỏng hoặc không đúng định dạng, không kiểm tra được chữ ký",
            log=f"PDF read: {exc!r}",
        ) from None
    if encrypted:
        raise PdfUnreadableError("Tệp PDF đã được mã hóa, không kiểm tra được chữ ký số")
    return reader


def _coverage(level: SignatureCoverageLevel | None) -> str:
    return {
        SignatureCoverageLevel.ENTIRE_FILE: "entire_file",
        SignatureCoverageLevel.ENTIRE_REVISION: "entire_revision",
        SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START: "partial",
    }.get(level, "unclear")  # type: ignore[arg-type]


def _status(*, intact: bool, valid: bool, modified: bool, expired: bool, trusted: bool) -> str:
    if not intact:
        return "modified"
    if not valid:
        return "invalid"
    if modified:
        return "modified"
    if expired:
        return "expired"
    if not trusted:
        return "untrusted"
    return "valid"


def _name_part(cert: x509.Certificate, key: str) -> str | None:
    value = cert.subject.native.get(key)
    return value if isinstance(value, str) else None


def _verify_one(embedded: EmbeddedPdfSignature, roots: tuple[x509.Certificate, ...], at: dt.datetime) -> SignatureInfo:
    field_name = embedded.field_name
    failures = (SignatureValidationError, PdfError, ValueError, KeyError, TypeError, zlib.error)
    damaged = False
    context = ValidationContext(trust_roots=list(roots), allow_fetching=False, moment=at)
    try:
        st = validate_pdf_signature(embedded, signer_validation_context=context)
    except failures:
        # The file around the signature is damaged (pyHanko's diff analysis cannot read what was added after
        # it): the signed bytes can still be checked, and whatever else is there counts as a modification.
        damaged = True
    if damaged:
        try:
            st = validate_pdf_signature(embedded, signer_validation_context=context, skip_diff=True)
        except failures as exc:
            return _unreadable(field_name, exc)
    return _from_status(st, field_name, at, damaged=damaged)


def _unreadable(field_name: str, exc: BaseException) -> SignatureInfo:
    return SignatureInfo(
        field_name=field_name,
        signer_name="",
        signer_organization=None,
        signing_time=None,
        intact=False,
        valid=False,
        trusted=False,
        expired=False,
        modified_after_signing=False,
        coverage="unclear",
        timestamped=False,
        status="invalid",
        label=STATUS_LABELS["invalid"] + f" ({type(exc).__name__})",
    )


def _from_status(st: Any, field_name: str, at: dt.datetime, *, damaged: bool) -> SignatureInfo:
    cert = st.signing_cert
    expired = not (cert.not_valid_before <= at <= cert.not_valid_after)
    coverage = _coverage(st.coverage)
    level = st.modification_level
    modified = (
        damaged
        or coverage in ("partial", "unclear")
        or not st.docmdp_ok
        or level is None
        or level.value > ModificationLevel.FORM_FILLING.value
    )
    status = _status(intact=st.intact, valid=st.valid, modified=modified, expired=expired, trusted=st.trusted)
    return SignatureInfo(
        field_name=field_name,
        signer_name=_name_part(cert, "common_name") or cert.subject.human_friendly,
        signer_organization=_name_part(cert, "organization_name"),
        signing_time=st.signer_reported_dt,
        intact=st.intact,
        valid=st.valid,
        trusted=st.trusted,
        expired=expired,
        modified_after_signing=modified,
        coverage=coverage,
        timestamped=st.timestamp_validity is not None,
        status=status,
        label=STATUS_LABELS[status],
    )


def verify_pdf(pdf: bytes, trust_roots: Sequence[bytes]) -> VerificationResult:
    """Check every signature of ``pdf``; ``trust_roots`` are DER or PEM certificates."""
    reader = _read(pdf)
    roots = _roots(tuple(bytes(r) for r in trust_roots))
    at = now()
    signatures = tuple(_verify_one(embedded, roots, at) for embedded in reader.embedded_signatures)
    if not signatures:
        return VerificationResult(status="unsigned", label=STATUS_LABELS["unsigned"], signatures=())
    status = min((s.status for s in signatures), key=_SEVERITY.index)
    return VerificationResult(status=status, label=STATUS_LABELS[status], signatures=signatures)
