"""PAdES signing with a visible appearance, as an incremental update (earlier signatures stay valid)."""

from __future__ import annotations

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
from pyhanko.stamp import StaticStampStyle

from app.core.errors import ValidationError
from app.signing.errors import (
    PdfUnreadableError,
    SignatureFieldConflictError,
    SignerDeviceError,
    SigningError,
)
from app.signing.keys import open_signer, reserved_signature_bytes
from app.signing.refs import SignerRef, TsaRef

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
) -> bytes:
    """Sign ``pdf`` (PAdES B-B, or B-T with ``timestamper``) and return the new file.

    ``box`` is (x1, y1, x2, y2) in PDF points from the bottom-left corner of ``page``; the page of
    ``appearance_pdf`` is scaled into it. Without ``box`` the signature is invisible.
    """
    if appearance_pdf is not None and box is None:
        raise ValidationError("Chữ ký hiển thị cần vị trí trên trang", field_errors={"box": ["Bắt buộc"]})
    writer = open_incremental(pdf)
    metadata = PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    field_spec = fields.SigFieldSpec(field_name, on_page=page, box=box) if box is not None else None
    out = io.BytesIO()
    with open_signer(signer) as pyhanko_signer:

        def pdf_signer() -> PdfSigner:  # the stamp's content binds to one writer: one per attempt
            return PdfSigner(
                metadata,
                pyhanko_signer,
                stamp_style=_stamp_style(appearance_pdf) if appearance_pdf is not None else None,
                timestamper=_timestamper(timestamper),
                new_field_spec=field_spec,
            )

        try:
            # With a TSA the token size is unknown: let pyHanko measure it with a dry run.
            reserved = reserved_signature_bytes(pyhanko_signer) if timestamper is None else None
            try:
                pdf_signer().sign_pdf(writer, output=out, bytes_reserved=reserved)
            except PyhankoSigningError as exc:
                if reserved is None or "larger than expected" not in str(exc):
                    raise
                # An unusual certificate made the blob larger than foreseen: measure, then sign.
                writer, out = open_incremental(pdf), io.BytesIO()
                pdf_signer().sign_pdf(writer, output=out)
        except PyhankoSigningError as exc:
            if "already" in str(exc).lower() or "filled" in str(exc).lower():
                raise SignatureFieldConflictError("Vị trí chữ ký này đã được ký", details=[field_name]) from None
            raise SigningError("Không ký số được văn bản", log=f"pyHanko: {exc!r}") from None
        except TimestampRequestError as exc:
            raise SignerDeviceError(
                "Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian", log=f"TSA: {exc!r}"
            ) from None
        except PdfError as exc:
            raise PdfUnreadableError("Tệp PDF bị hỏng hoặc không đúng định dạng", log=f"PDF sign: {exc!r}") from None
    return out.getvalue()
