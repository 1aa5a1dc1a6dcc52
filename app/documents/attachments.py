"""Checking and storing the files of a document.

The type is decided by the content (app.documents.filetypes: bounded reads, bombs and macros refused),
never by the name: a PNG renamed ``.pdf`` is refused, and the stored name takes the detected type's
extension. PDFs must open (not encrypted, not damaged, within page and object limits); scans must be
PDF 1.4 or later (Phụ lục I, Part II); their text is extracted for search; signed PDFs are verified
against the trust roots and the verdict is stored with the file.
"""

from __future__ import annotations

import hashlib
import logging
import pathlib
import re
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from pypdf.errors import PdfReadError, PyPdfError

from app.core import clock
from app.core.text import nfc

from . import filetypes, settings, virusscan
from .errors import AttachmentRefusedError
from .filetypes import DOCX, JPEG, ODT, PDF, PNG, TEXT, XLSX
from .models import Attachment
from .storage import Storage

log = logging.getLogger(__name__)

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
    # A PDF that acts when opened (JavaScript, open actions, launches, embedded files): download only.
    active: bool = False


# Bidirectional controls (U+202E "right-to-left override" shows "gpj.exe" as "exe.jpg") and other invisible
# format characters are dropped, like every control character.
_INVISIBLE = {"\u061c", "\u200e", "\u200f", "\u2066", "\u2067", "\u2068", "\u2069", *map(chr, range(0x202A, 0x202F))}


def safe_filename(name: str) -> str:
    """Keep the user's name for display and download, minus paths, control and bidirectional characters."""
    base = pathlib.PurePosixPath(str(name).replace("\\", "/")).name
    base = "".join(ch for ch in nfc(base) if unicodedata.category(ch)[0] != "C" and ch not in _INVISIBLE)
    return base.strip(" .")[:200].strip(" .") or "tep_dinh_kem"


def _pdf_version(data: bytes) -> tuple[int, int] | None:
    match = re.match(rb"%PDF-(\d)\.(\d)", data[:16]) or re.search(rb"%PDF-(\d)\.(\d)", data[:1024])
    return (int(match.group(1)), int(match.group(2))) if match else None


def _read_pdf(data: bytes, filename: str) -> filetypes.PdfFacts:
    """Open the PDF as a reader would (within limits); return its pages, search text and active content."""
    damaged = f"Tệp «{filename}» không phải là tệp PDF hợp lệ hoặc đã bị hỏng, không thể lưu."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pypdf warns about tolerable oddities of real-world files
        try:
            facts = filetypes.read_pdf(data)
        except filetypes.FileRefused:
            raise
        except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError,
                RecursionError, OSError) as exc:
            raise AttachmentRefusedError(damaged, filename=filename, log=f"pypdf: {exc!r}") from None
    if facts.pages == 0:
        raise AttachmentRefusedError(damaged, filename=filename)
    return facts


def check_file(upload: UploadInfo, *, max_bytes: int) -> CheckedFile:
    """Refuse what the rules do not accept; describe what they do."""
    filename = safe_filename(upload.filename)
    try:
        return _check(upload, filename, max_bytes)
    except filetypes.FileRefused as exc:
        log.warning("upload %r refused: %s", filename, exc.log_detail)
        raise AttachmentRefusedError(f"Tệp «{filename}» {exc.reason}", filename=filename,
                                     log=exc.log_detail) from None


def _scan(data: bytes, filename: str) -> None:
    """ClamAV, when configured (QLVB_CLAMD): a file it flags is refused, and so is any file while it is down."""
    address = settings.clamd_address()
    if address is None:
        return
    try:
        found = virusscan.scan_bytes(data, address, timeout=settings.clamd_timeout())
    except virusscan.ScanUnavailable as exc:
        log.error("virus scan unavailable, upload %r refused: %s", filename, exc)
        raise AttachmentRefusedError(
            f"Chưa kiểm tra được virus cho tệp «{filename}» (dịch vụ quét virus không trả lời); hệ thống chưa lưu "
            "tệp. Hãy thử lại sau ít phút hoặc báo quản trị.", filename=filename, log=str(exc)) from None
    if found is not None:
        log.warning("upload %r refused: ClamAV found %s", filename, found)
        raise AttachmentRefusedError(f"Tệp «{filename}» bị phần mềm quét virus phát hiện mã độc ({found}); hệ thống "
                                     "không lưu tệp này.", filename=filename, log=f"clamav: {found}")


def _check(upload: UploadInfo, filename: str, max_bytes: int) -> CheckedFile:
    data = upload.data
    if not data:
        raise AttachmentRefusedError(f"Tệp «{filename}» rỗng.", filename=filename)
    if len(data) > max_bytes:
        raise AttachmentRefusedError(
            f"Tệp «{filename}» có dung lượng {len(data) / 1048576:.1f} MB, vượt giới hạn "
            f"{max_bytes // 1048576} MB cho mỗi tệp.",
            filename=filename,
        )
    filetypes.refuse_name(filename)
    content_type = filetypes.sniff(data)
    if content_type is None:
        raise AttachmentRefusedError(
            f"Tệp «{filename}» không thuộc định dạng được chấp nhận ({ALLOWED_LABEL}).", filename=filename
        )
    suffix = filetypes.suffix_of(filename)
    if suffix == ".pdf" and content_type != PDF:
        raise AttachmentRefusedError(
            f"Tệp «{filename}» có đuôi .pdf nhưng nội dung không phải PDF (là tệp {ALLOWED[content_type]}).",
            filename=filename,
        )
    _scan(data, filename)
    pages, text, version, active = None, None, None, False
    if content_type == PDF:
        parsed = _pdf_version(data)
        version = f"{parsed[0]}.{parsed[1]}" if parsed else None
        if upload.kind == "scan" and (parsed is None or parsed < MIN_SCAN_VERSION):
            raise AttachmentRefusedError(
                f"Bản số hóa «{filename}» phải là tệp PDF phiên bản 1.4 trở lên (Nghị định 30/2020/NĐ-CP, "
                f"Phụ lục I); tệp này là PDF {version or 'không rõ phiên bản'}.",
                filename=filename,
            )
        facts = _read_pdf(data, filename)
        pages, text, active = facts.pages, nfc(facts.text)[:MAX_TEXT_CHARS], facts.active
    elif upload.kind == "scan":
        raise AttachmentRefusedError(
            f"Bản số hóa «{filename}» phải là tệp PDF (Nghị định 30/2020/NĐ-CP, Phụ lục I).", filename=filename
        )
    elif content_type == TEXT:
        text = nfc(data.decode("utf-8-sig"))[:MAX_TEXT_CHARS]
    return CheckedFile(
        filename=filetypes.stored_name(filename, content_type),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        page_count=pages,
        pdf_version=version,
        text=text,
        active=active,
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
