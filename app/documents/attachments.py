"""Checking and storing the files of a document.

The type is decided by the content (puremagic, then the inner structure of ZIP-based office files),
never by the name: a PNG renamed ``.pdf`` is refused. PDFs must open (not encrypted, not damaged);
scans must be PDF 1.4 or later (Phụ lục I, Part II); their text is extracted for search; signed
PDFs are verified against the trust roots and the verdict is stored with the file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import pathlib
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field

import puremagic
from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError

from app.core import clock
from app.core.text import nfc

from .errors import AttachmentRefusedError
from .models import Attachment
from .storage import Storage

log = logging.getLogger(__name__)

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
PNG = "image/png"
JPEG = "image/jpeg"
TEXT = "text/plain"
ALLOWED = {PDF: "PDF", DOCX: "Word (DOCX)", XLSX: "Excel (XLSX)", ODT: "OpenDocument (ODT)", PNG: "PNG",
           JPEG: "JPEG", TEXT: "văn bản thuần"}
ALLOWED_LABEL = "PDF, DOCX, ODT, XLSX, PNG, JPEG, TXT"
MAX_TEXT_CHARS = 1_000_000  # search text per file; a 300-page scan with OCR stays well below
MIN_SCAN_VERSION = (1, 4)


@dataclass(frozen=True)
class UploadInfo:
    """A file as the view received it: plain bytes and the name the user gave it."""

    filename: str
    data: bytes = field(repr=False)
    kind: str = "original"  # original | scan


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    size: int
    sha256: str
    page_count: int | None
    pdf_version: str | None
    text: str | None


def safe_filename(name: str) -> str:
    """Keep the user's name for display and download, minus paths and control characters."""
    base = pathlib.PurePosixPath(str(name).replace("\\", "/")).name
    base = "".join(ch for ch in nfc(base) if unicodedata.category(ch)[0] != "C").strip(" .")
    return base[:200] or "tep_dinh_kem"


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return PDF
    try:
        matches = puremagic.magic_string(data[:8192])
    except puremagic.PureError:
        matches = []
    mimes = {m.mime_type for m in matches}
    if PNG in mimes:
        return PNG
    if JPEG in mimes:
        return JPEG
    if data.startswith(b"PK\x03\x04") or any(m.extension in (".zip", ".docx", ".xlsx", ".odt") for m in matches):
        return _zip_kind(data)
    if PDF in mimes:  # "%PDF" after some junk bytes: readers accept it, so do we
        return PDF
    if _is_text(data):
        return TEXT
    return None


def _zip_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if "mimetype" in names and zf.read("mimetype").strip() == ODT.encode():
                return ODT
            if "[Content_Types].xml" in names:
                if "word/document.xml" in names:
                    return DOCX
                if "xl/workbook.xml" in names:
                    return XLSX
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return None
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data[:65536]:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\r\n\t\f" for ch in text[:65536])


def _pdf_version(data: bytes) -> tuple[int, int] | None:
    match = re.match(rb"%PDF-(\d)\.(\d)", data[:16]) or re.search(rb"%PDF-(\d)\.(\d)", data[:1024])
    return (int(match.group(1)), int(match.group(2))) if match else None


def _read_pdf(data: bytes, filename: str) -> tuple[int, str]:
    """Open the PDF as a reader would; return its page count and text."""
    damaged = f"Tệp «{filename}» không phải là tệp PDF hợp lệ hoặc đã bị hỏng, không thể lưu."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pypdf warns about tolerable oddities of real-world files
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise AttachmentRefusedError(
                    f"Tệp «{filename}» là PDF có mật khẩu (mã hóa). Hãy gỡ mật khẩu rồi tải lên lại, để mọi người "
                    "được giao xử lý đọc được và hệ thống kiểm tra được chữ ký số.",
                    filename=filename,
                )
            pages = len(reader.pages)
            if pages == 0:
                raise AttachmentRefusedError(damaged, filename=filename)
            chunks: list[str] = []
            size = 0
            for page in reader.pages:
                try:
                    chunk = page.extract_text() or ""
                except (PyPdfError, ValueError, KeyError, TypeError, AttributeError):
                    chunk = ""  # text is for search only: a page we cannot read is not a reason to refuse
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_TEXT_CHARS:
                    break
        except AttachmentRefusedError:
            raise
        except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError,
                RecursionError, OSError) as exc:
            raise AttachmentRefusedError(damaged, filename=filename, log=f"pypdf: {exc!r}") from None
    return pages, nfc("\n".join(chunks))[:MAX_TEXT_CHARS]


def check_file(upload: UploadInfo, *, max_bytes: int) -> CheckedFile:
    """Refuse what the rules do not accept; describe what they do."""
    filename = safe_filename(upload.filename)
    data = upload.data
    if not data:
        raise AttachmentRefusedError(f"Tệp «{filename}» rỗng.", filename=filename)
    if len(data) > max_bytes:
        raise AttachmentRefusedError(
            f"Tệp «{filename}» có dung lượng {len(data) / 1048576:.1f} MB, vượt giới hạn "
            f"{max_bytes // 1048576} MB cho mỗi tệp.",
            filename=filename,
        )
    content_type = _sniff(data)
    if content_type is None:
        raise AttachmentRefusedError(
            f"Tệp «{filename}» không thuộc định dạng được chấp nhận ({ALLOWED_LABEL}).", filename=filename
        )
    suffix = pathlib.PurePosixPath(filename).suffix.lower()
    if suffix == ".pdf" and content_type != PDF:
        raise AttachmentRefusedError(
            f"Tệp «{filename}» có đuôi .pdf nhưng nội dung không phải PDF (là tệp {ALLOWED[content_type]}).",
            filename=filename,
        )
    pages, text, version = None, None, None
    if content_type == PDF:
        parsed = _pdf_version(data)
        version = f"{parsed[0]}.{parsed[1]}" if parsed else None
        if upload.kind == "scan" and (parsed is None or parsed < MIN_SCAN_VERSION):
            raise AttachmentRefusedError(
                f"Bản số hóa «{filename}» phải là tệp PDF phiên bản 1.4 trở lên (Nghị định 30/2020/NĐ-CP, "
                f"Phụ lục I); tệp này là PDF {version or 'không rõ phiên bản'}.",
                filename=filename,
            )
        pages, text = _read_pdf(data, filename)
    elif upload.kind == "scan":
        raise AttachmentRefusedError(
            f"Bản số hóa «{filename}» phải là tệp PDF (Nghị định 30/2020/NĐ-CP, Phụ lục I).", filename=filename
        )
    elif content_type == TEXT:
        text = nfc(data.decode("utf-8"))[:MAX_TEXT_CHARS]
    return CheckedFile(
        filename=filename,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        page_count=pages,
        pdf_version=version,
        text=text,
    )


def check_files(uploads: Sequence[UploadInfo], *, max_bytes: int) -> list[CheckedFile]:
    return [check_file(u, max_bytes=max_bytes) for u in uploads]


def new_attachment(
    checked: CheckedFile, data: bytes, *, storage: Storage, kind: str, uploaded_by_id: int | None
) -> Attachment:
    """Write the blob (content-addressed, idempotent), then build the row that names it."""
    key = storage.put(data)
    return Attachment(
        filename=checked.filename,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        storage_key=key,
        kind=kind,
        page_count=checked.page_count,
        text_content=checked.text,
        uploaded_by_id=uploaded_by_id,
        created_at=clock.now(),
    )
