"""Verify the signatures of a PDF against configured trust roots, and say plainly what holds."""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import pem, x509
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError, SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

from app.core.clock import now
from app.signing.errors import PdfUnreadableError
from app.signing.refs import RevocationPolicy

REVOCATION_MODES = ("off", "embedded", "online")

log = logging.getLogger(__name__)

STATUS_LABELS = {
    "valid": "Chữ ký số hợp lệ",
    "untrusted": "Chứng thư số không do tổ chức chứng thực tin cậy cấp",
    "modified": "Văn bản đã bị thay đổi sau khi ký",
    "expired": "Chứng thư số đã hết hạn",
    "revoked": "Chứng thư số đã bị thu hồi",
    "unchecked": "Chưa kiểm tra được tình trạng thu hồi của chứng thư số",
    "invalid": "Chữ ký số không hợp lệ",
    "unsigned": "Văn bản chưa được ký số",
}
# Worst first: the document's status is that of its worst signature.
_SEVERITY = ("invalid", "revoked", "modified", "expired", "untrusted", "unchecked", "valid")


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
    kind: str = "signature"  # or "document_timestamp" (a TSA's token over the whole file: PAdES B-LTA)
    revoked: bool = False  # the signer's (or a CA's) certificate is revoked
    revocation_checked: bool = False  # a CRL or OCSP response said it is not revoked
    long_term: bool = False  # the file carries validation data (document security store)


@dataclass(frozen=True)
class VerificationResult:
    status: str  # "valid", "untrusted", "modified", "expired", "revoked", "unchecked", "invalid", "unsigned"
    label: str
    signatures: tuple[SignatureInfo, ...]


@functools.lru_cache(maxsize=32)
def parse_roots(trust_roots: tuple[bytes, ...]) -> tuple[x509.Certificate, ...]:
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


def _status(*, intact: bool, valid: bool, modified: bool, expired: bool, trusted: bool, revoked: bool = False,
            unchecked: bool = False) -> str:
    if not intact:
        return "modified"
    if not valid:
        return "invalid"
    if revoked:
        return "revoked"
    if modified:
        return "modified"
    if expired:
        return "expired"
    if unchecked:
        return "unchecked"
    if not trusted:
        return "untrusted"
    return "valid"


def _name_part(cert: x509.Certificate, key: str) -> str | None:
    value = cert.subject.native.get(key)
    return value if isinstance(value, str) else None


def _context(reader: PdfFileReader, roots: tuple[x509.Certificate, ...], at: dt.datetime,
             policy: RevocationPolicy) -> tuple[ValidationContext, bool]:
    """The validation context for ``policy``, preloaded with the file's own validation data (DSS)."""
    kwargs: dict[str, Any] = {"trust_roots": list(roots), "moment": at, "allow_fetching": False}
    if policy.mode != "off":
        kwargs.update(revocation_mode="hard-fail", crls=[], ocsps=[])
    if policy.mode == "online":
        kwargs["allow_fetching"] = True
        kwargs["fetcher_backend"] = RequestsFetcherBackend(per_request_timeout=policy.timeout_seconds)
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return ValidationContext(**kwargs), False
    except (PdfError, ValueError, KeyError, TypeError):
        return ValidationContext(**kwargs), False  # an unreadable DSS adds nothing; the signature is still checked
    return dss.as_validation_context(kwargs), True


def _verify_one(embedded: EmbeddedPdfSignature, reader: PdfFileReader, roots: tuple[x509.Certificate, ...],
                at: dt.datetime, policy: RevocationPolicy) -> SignatureInfo:
    field_name = embedded.field_name
    failures = (SignatureValidationError, PdfError, ValueError, KeyError, TypeError, zlib.error)
    damaged = False
    context, long_term = _context(reader, roots, at, policy)
    if embedded.sig_object_type == "/DocTimeStamp":
        return _document_timestamp(embedded, reader, roots, at, policy)
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
    unchecked = False
    if policy.mode != "off" and st.intact and st.valid and not st.trusted and not st.revoked:
        # Trusted once revocation is not asked for: what is missing is the CRL/OCSP answer, not the chain.
        relaxed, _ = _context(reader, roots, at, RevocationPolicy())
        try:
            unchecked = validate_pdf_signature(embedded, signer_validation_context=relaxed, skip_diff=True).trusted
        except failures:
            unchecked = False
        if unchecked:
            log.warning("revocation status of %s (%s) could not be checked (%s): %s", field_name,
                        st.signing_cert.subject.human_friendly, policy.mode, st.trust_problem_indic)
    return _from_status(st, field_name, at, damaged=damaged, policy=policy, long_term=long_term, unchecked=unchecked)


def _document_timestamp(embedded: EmbeddedPdfSignature, reader: PdfFileReader, roots: tuple[x509.Certificate, ...],
                        at: dt.datetime, policy: RevocationPolicy) -> SignatureInfo:
    context, long_term = _context(reader, roots, at, policy)
    failures = (SignatureValidationError, PdfError, ValueError, KeyError, TypeError, zlib.error)
    try:
        st = validate_pdf_timestamp(embedded, validation_context=context)
    except failures as exc:
        return _unreadable(embedded.field_name, exc)
    cert = st.signing_cert
    expired = not (cert.not_valid_before <= at <= cert.not_valid_after)
    level = st.modification_level
    modified = _coverage(st.coverage) in ("partial", "unclear") or level is None or (
        level.value > ModificationLevel.LTA_UPDATES.value)
    checking = policy.mode != "off"
    revoked = checking and st.revoked
    unchecked = False
    if checking and st.intact and st.valid and not st.trusted and not revoked:
        relaxed, _ = _context(reader, roots, at, RevocationPolicy())
        try:
            unchecked = validate_pdf_timestamp(embedded, validation_context=relaxed, skip_diff=True).trusted
        except failures:
            unchecked = False
    status = _status(intact=st.intact, valid=st.valid, modified=modified, expired=expired, trusted=st.trusted,
                     revoked=revoked, unchecked=unchecked)
    return SignatureInfo(
        field_name=embedded.field_name, signer_name=_name_part(cert, "common_name") or cert.subject.human_friendly,
        signer_organization=_name_part(cert, "organization_name"), signing_time=st.timestamp, intact=st.intact,
        valid=st.valid, trusted=st.trusted, expired=expired, modified_after_signing=modified,
        coverage=_coverage(st.coverage), timestamped=True, status=status, label=STATUS_LABELS[status],
        kind="document_timestamp", revoked=revoked, revocation_checked=checking and st.trusted, long_term=long_term,
    )


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


def _from_status(st: Any, field_name: str, at: dt.datetime, *, damaged: bool, policy: RevocationPolicy,
                 long_term: bool, unchecked: bool) -> SignatureInfo:
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
    checking = policy.mode != "off"
    revoked = checking and st.revoked
    status = _status(intact=st.intact, valid=st.valid, modified=modified, expired=expired, trusted=st.trusted,
                     revoked=revoked, unchecked=unchecked)
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
        revoked=revoked,
        revocation_checked=checking and st.trusted,
        long_term=long_term,
    )


def verify_pdf(pdf: bytes, trust_roots: Sequence[bytes], *,
               revocation: RevocationPolicy | None = None) -> VerificationResult:
    """Check every signature of ``pdf``; ``trust_roots`` are DER or PEM certificates.

    With a ``revocation`` policy other than "off", a certificate is trusted only once a CRL or OCSP
    response (embedded, or fetched online) says it is not revoked: "revoked" if one says it is,
    "unchecked" if none could be had."""
    policy = revocation or RevocationPolicy()
    if policy.mode not in REVOCATION_MODES:
        raise ValueError(f"unknown revocation mode {policy.mode!r}")
    reader = _read(pdf)
    roots = parse_roots(tuple(bytes(r) for r in trust_roots))
    at = now()
    signatures = tuple(_verify_one(embedded, reader, roots, at, policy) for embedded in reader.embedded_signatures)
    if not signatures:
        return VerificationResult(status="unsigned", label=STATUS_LABELS["unsigned"], signatures=())
    status = min((s.status for s in signatures), key=_SEVERITY.index)
    return VerificationResult(status=status, label=STATUS_LABELS[status], signatures=signatures)
