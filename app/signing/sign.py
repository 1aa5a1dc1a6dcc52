"""PAdES signing with a visible appearance, as an incremental update (earlier signatures stay valid)."""

from __future__ import annotations

import asyncio
import binascii
import io
import uuid

from pyhanko.pdf_utils import content
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.general import SigningError as PyhankoSigningError
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

from app.core.errors import ValidationError
from app.signing.errors import (
    PdfUnreadableError,
    SignatureFieldConflictError,
    SignerDeviceError,
    SigningError,
)
from app.signing.keys import open_signer_async, reserved_signature_bytes
from app.signing.refs import LongTermRef, SignerRef, TsaRef
from app.signing.remote import RemoteSigner
from app.signing.verify import parse_roots

Box = tuple[float, float, float, float]


class _ImportedPdfBytes(content.ImportedPdfPage):
    """pyHanko's ImportedPdfPage reads a file name; our appearances are bytes rendered in memory."""

    def __init__(self, pdf: bytes, page_ix: int = 0):
        super().__init__(file_name="<memory>", page_ix=page_ix)
        self._pdf = pdf

    def render(self) -> bytes:
        writer = self._ensure_writer
        xobj = writer.import_page_as_xobject(PdfFileReader(io.BytesIO(self._pdf)), page_ix=self.page_ix)
        resource_name = b"/Import" + binascii.hexlify(uuid.uuid4().bytes)
        self.resources.xobject[resource_name.decode("ascii")] = xobj
        x1, y1, x2, y2 = xobj.get_object()["/BBox"]
        self.box = BoxConstraints(width=abs(x1 - x2), height=abs(y1 - y2))
        return resource_name + b" Do"


def _stamp_style(appearance_pdf: bytes) -> StaticStampStyle:
    return StaticStampStyle(background=_ImportedPdfBytes(appearance_pdf), border_width=0, background_opacity=1.0)


def _timestamper(ref: TsaRef | None) -> HTTPTimeStamper | None:
    if ref is None:
        return None
    auth = (ref.username, ref.password or "") if ref.username else None
    return HTTPTimeStamper(ref.url, auth=auth, timeout=ref.timeout_seconds)


def open_incremental(pdf: bytes) -> IncrementalPdfFileWriter:
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise PdfUnreadableError("Tệp PDF bị hỏng hoặc không đúng định dạng", log=f"PDF read: {exc!r}") from None
    if writer.prev.encrypted:
        raise PdfUnreadableError("Tệp PDF đã được mã hóa, không thể ký số")
    return writer


def _validation_context(long_term: LongTermRef) -> ValidationContext:
    """What the signer's chain and revocation data are fetched with, to be embedded in the file."""
    return ValidationContext(
        trust_roots=list(parse_roots(tuple(long_term.trust_roots))),
        allow_fetching=True,
        revocation_mode="soft-fail",  # a CA without CRL/OCSP still signs; verification then says so
        fetcher_backend=RequestsFetcherBackend(per_request_timeout=long_term.fetch_timeout_seconds),
    )


def sign_pdf(
    pdf: bytes,
    signer: SignerRef,
    *,
    field_name: str,
    page: int = -1,
    box: Box | None = None,
    appearance_pdf: bytes | None = None,
    reason: str,
    location: str,
    timestamper: TsaRef | None = None,
    long_term: LongTermRef | None = None,
) -> bytes:
    """Sign ``pdf`` and return the new file: PAdES B-B, B-T with ``timestamper``, B-LT (validation data in
    the document security store) with ``long_term`` too, B-LTA with its ``archive_timestamp``.

    ``box`` is (x1, y1, x2, y2) in PDF points from the bottom-left corner of ``page``; the page of
    ``appearance_pdf`` is scaled into it. Without ``box`` the signature is invisible.
    """
    if appearance_pdf is not None and box is None:
        raise ValidationError("Chữ ký hiển thị cần vị trí trên trang", field_errors={"box": ["Bắt buộc"]})
    if long_term is not None and long_term.archive_timestamp and timestamper is None:
        raise ValidationError("Chữ ký lưu trữ dài hạn (B-LTA) cần máy chủ cấp dấu thời gian")
    open_incremental(pdf)  # refuse a damaged or encrypted file before unlocking any key
    return asyncio.run(_sign(pdf, signer, field_name=field_name, page=page, box=box, appearance_pdf=appearance_pdf,
                             reason=reason, location=location, timestamper=timestamper, long_term=long_term))


async def _sign(pdf: bytes, signer: SignerRef, *, field_name: str, page: int, box: Box | None,
                appearance_pdf: bytes | None, reason: str, location: str, timestamper: TsaRef | None,
                long_term: LongTermRef | None) -> bytes:
    metadata = PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        validation_context=_validation_context(long_term) if long_term is not None else None,
        embed_validation_info=long_term is not None,
        use_pades_lta=bool(long_term and long_term.archive_timestamp),
    )
    field_spec = fields.SigFieldSpec(field_name, on_page=page, box=box) if box is not None else None
    async with open_signer_async(signer) as pyhanko_signer:

        def pdf_signer() -> PdfSigner:  # the stamp's content binds to one writer: one per attempt
            return PdfSigner(
                metadata,
                pyhanko_signer,
                stamp_style=_stamp_style(appearance_pdf) if appearance_pdf is not None else None,
                timestamper=_timestamper(timestamper),
                new_field_spec=field_spec,
            )

        writer, out = open_incremental(pdf), io.BytesIO()
        try:
            # With a TSA the token size is unknown: let pyHanko measure it with a dry run.
            reserved = reserved_signature_bytes(pyhanko_signer) if timestamper is None else None
            try:
                await pdf_signer().async_sign_pdf(writer, output=out, bytes_reserved=reserved)
            except PyhankoSigningError as exc:
                if reserved is None or "larger than expected" not in str(exc):
                    raise
                # An unusual certificate made the blob larger than foreseen: measure, then sign.
                writer, out = open_incremental(pdf), io.BytesIO()
                await pdf_signer().async_sign_pdf(writer, output=out)
        except PyhankoSigningError as exc:
            failure = pyhanko_signer.failure() if isinstance(pyhanko_signer, RemoteSigner) else None
            if failure is not None:  # the remote service refused or could not be reached
                raise failure from None
            if "could not be validated" in str(exc):  # B-LT: the signer's chain or revocation check failed
                raise SigningError(
                    "Chứng thư số của người ký không xác thực được (đã bị thu hồi, hết hạn hoặc không do tổ chức "
                    "chứng thực tin cậy cấp); văn bản chưa được ký", log=f"B-LT validation: {exc!r}") from None
            if "already" in str(exc).lower() or "filled" in str(exc).lower():
                raise SignatureFieldConflictError("Vị trí chữ ký này đã được ký", details=[field_name]) from None
            raise SigningError("Không ký số được văn bản", log=f"pyHanko: {exc!r}") from None
        except TimestampRequestError as exc:
            raise SignerDeviceError(
                "Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian", log=f"TSA: {exc!r}"
            ) from None
        except (SignatureValidationError, PathBuildingError, PathValidationError) as exc:
            raise SigningError(
                "Không lập được dữ liệu kiểm tra lâu dài cho chữ ký: chứng thư số không xác thực được theo các "
                "chứng thư gốc tin cậy", log=f"B-LT validation data: {exc!r}",
            ) from None
        except PdfError as exc:
            raise PdfUnreadableError("Tệp PDF bị hỏng hoặc không đúng định dạng", log=f"PDF sign: {exc!r}") from None
    return out.getvalue()
