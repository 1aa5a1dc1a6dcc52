"""What an uploaded file really is, decided from its content with bounded reads, and what it may carry.

One worker serves all 35 agencies, so no check may cost more than the file's own size: a ZIP is judged from its
central directory (sizes, ratio, number of parts) and at most a few small members are read, and never whole; a
PDF's page tree and object count are checked before pypdf walks them, under pypdf's own limits tightened here.
Macro-carrying office files, scripts, executables, HTML and SVG are refused whatever their name says.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
import struct
import time
import zipfile
from dataclasses import dataclass

import puremagic
from pypdf import PdfReader, apply_configuration
from pypdf.errors import LimitReachedError, PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

log = logging.getLogger(__name__)

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
PNG = "image/png"
JPEG = "image/jpeg"
TEXT = "text/plain"

# The extension a stored file gets is the detected type's, never the one the user typed.
EXTENSIONS = {PDF: ".pdf", DOCX: ".docx", XLSX: ".xlsx", ODT: ".odt", PNG: ".png", JPEG: ".jpg", TEXT: ".txt"}
_ALIASES = {".jpeg": JPEG, ".jpe": JPEG, ".jfif": JPEG, **{ext: kind for kind, ext in EXTENSIONS.items()}}

NOT_ACCEPTED = "không thuộc định dạng được chấp nhận (PDF, DOCX, ODT, XLSX, PNG, JPEG, TXT)."
SNIFF_BYTES = 8192
TEXT_CHUNK = 65536
# ZIP-based office files (DOCX, XLSX, ODT): limits read from the central directory before anything is inflated.
MAX_ZIP_MEMBERS = 5000
MAX_ZIP_DIRECTORY_BYTES = 2 * 1024 * 1024
MAX_ZIP_MEMBER_BYTES = 100 * 1024 * 1024
MAX_ZIP_TOTAL_BYTES = 250 * 1024 * 1024
MAX_ZIP_RATIO = 100  # uncompressed / compressed, for members above ZIP_RATIO_FLOOR
ZIP_RATIO_FLOOR = 1024 * 1024
MAX_ZIP_META_BYTES = 1024 * 1024  # [Content_Types].xml: read at most this much
# PDFs: a long dossier scan has hundreds of pages; tens of thousands is an attack on the worker.
MAX_PDF_PAGES = 2000
MAX_PDF_OBJECTS = 300_000
MAX_PDF_STREAM_BYTES = 64 * 1024 * 1024
MAX_TEXT_PAGES = 500  # pages whose text is extracted for search
TEXT_SECONDS = 5.0

# Names that run code when opened (Windows, shells, browsers), whatever the content looked like.
SCRIPT_EXTENSIONS = frozenset({
    ".exe", ".com", ".scr", ".pif", ".cpl", ".msi", ".msp", ".dll", ".sys", ".drv", ".ocx", ".lnk", ".url",
    ".bat", ".cmd", ".vbs", ".vbe", ".js", ".jse", ".mjs", ".wsf", ".wsh", ".wsc", ".ps1", ".psm1", ".psd1",
    ".ps1xml", ".msh", ".sh", ".bash", ".zsh", ".csh", ".ksh", ".command", ".py", ".pyw", ".pl", ".rb", ".php",
    ".phtml", ".asp", ".aspx", ".jsp", ".cgi", ".jar", ".class", ".apk", ".app", ".hta", ".reg", ".inf", ".scf",
    ".gadget", ".msc", ".appref-ms", ".settingcontent-ms", ".application", ".iso", ".img", ".vhd", ".vhdx",
    ".chm", ".xll", ".xla", ".xlam", ".ppam", ".docm", ".dotm", ".xlsm", ".xltm", ".xlsb", ".pptm", ".potm",
    ".ppsm", ".sldm",
})
MARKUP_EXTENSIONS = frozenset({".html", ".htm", ".xhtml", ".xht", ".shtml", ".mht", ".mhtml", ".svg", ".svgz",
                               ".xsl", ".xslt"})
_MARKUP_START = re.compile(rb"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+(?:html|svg)|html|head|body|"
                           rb"script|svg|iframe|object|embed|meta|style|a\s|img\s|div|table|form)", re.I | re.S)
_SHEBANG = re.compile(rb"\s*#!")
_BATCH = re.compile(rb"\s*@?echo\s+off\b", re.I)

# PDF features that act on opening or ask the viewer to run something: such files are served as downloads only.
_PDF_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/RichMediaExecute", "/Rendition",
                       "/GoToE"}
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# Long names only: three-letter ones (/JS, /AA) turn up by chance in compressed bytes; the parser finds those.
_PDF_ACTIVE_RAW = re.compile(rb"/(?:JavaScript|OpenAction|Launch|RichMedia|EmbeddedFiles)(?![A-Za-z0-9])")


class FileRefused(Exception):
    """The content is not accepted; ``reason`` is the Vietnamese sentence that follows the file's name.

    Not a DomainError: attachments turns it into one that names the file.
    """

    def __init__(self, reason: str, log_detail: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.log_detail = log_detail or reason


@dataclass(frozen=True)
class PdfFacts:
    pages: int
    text: str
    active: bool


def suffix_of(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def refuse_name(name: str) -> None:
    """Refuse names that say "run me" or "render me" (scripts, executables, macro files, HTML, SVG).

    Only the last extension matters: the stored name ends with the detected type's (``hoa-don.vbs`` kept as
    text would become ``hoa-don.vbs.txt``, opened by a text editor), so an inner one cannot make it run.
    """
    ext = suffix_of(name)
    if ext not in SCRIPT_EXTENSIONS | MARKUP_EXTENSIONS:
        return
    if ext in MARKUP_EXTENSIONS:
        raise FileRefused(f"là trang web (HTML) hoặc ảnh SVG ({ext}), có thể chứa mã chạy trong trình duyệt; hệ "
                          "thống không nhận loại tệp này. Hãy chuyển sang PDF rồi tải lên.")
    if ext.endswith("m") and ext[:3] in (".do", ".xl", ".pp", ".po", ".sl"):
        raise FileRefused(f"là tệp Office có macro ({ext}); hệ thống không nhận tệp chứa macro. Hãy lưu lại dạng "
                          ".docx/.xlsx (không macro) hoặc PDF rồi tải lên.")
    raise FileRefused(f"có đuôi {ext} là tệp chương trình hoặc tập lệnh (có thể chạy mã trên máy người mở), "
                      f"{NOT_ACCEPTED}")


def stored_name(name: str, content_type: str) -> str:
    """``name`` with the extension of ``content_type``: a known but wrong extension is replaced, others kept."""
    ext = EXTENSIONS[content_type]
    suffix = suffix_of(name)
    if suffix and _ALIASES.get(suffix) == content_type:
        return name
    if suffix in _ALIASES:
        return name[: -len(suffix)] + ext
    return name + ext


def sniff(data: bytes) -> str | None:
    """The accepted type of ``data`` (raising FileRefused for dangerous content), or None if none matches."""
    head = data[:SNIFF_BYTES]
    if head.startswith(b"%PDF-"):
        return PDF
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        matches = []
    mimes = {m.mime_type for m in matches}
    if PNG in mimes:
        return PNG
    if JPEG in mimes:
        return JPEG
    if head.startswith(b"PK\x03\x04") or any(m.extension in (".zip", ".docx", ".xlsx", ".odt") for m in matches):
        return zip_kind(data)
    if (head.startswith(b"MZ") and b"\x00" in head) or head.startswith(b"\x7fELF"):
        raise FileRefused(f"là tệp chương trình (có thể chạy trên máy tính), {NOT_ACCEPTED}")
    if PDF in mimes and b"%PDF-" in data[:1024]:  # "%PDF" after some junk bytes: readers accept it, so do we
        return PDF
    if is_text(data):
        refuse_active_text(head)
        return TEXT
    return None


def is_text(data: bytes) -> bool:
    """UTF-8 throughout, without NULs; the first chunk also without control characters (but line breaks, tabs)."""
    if b"\x00" in data:
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(data), TEXT_CHUNK):
        try:
            text = decoder.decode(data[start:start + TEXT_CHUNK], final=start + TEXT_CHUNK >= len(data))
        except UnicodeDecodeError:
            return False
        if start == 0 and not all(ch.isprintable() or ch in "\r\n\t\f" for ch in text.removeprefix("\ufeff")):
            return False
    return True


def refuse_active_text(head: bytes) -> None:
    """Text a browser or a shell would run: HTML, SVG, scripts with a shebang, batch files."""
    body = head.removeprefix(b"\xef\xbb\xbf")
    if _MARKUP_START.match(body):
        raise FileRefused("là trang web (HTML) hoặc ảnh SVG, có thể chứa mã chạy trong trình duyệt; hệ thống không "
                          "nhận loại tệp này. Hãy chuyển sang PDF rồi tải lên.")
    if _SHEBANG.match(body) or _BATCH.match(body):
        raise FileRefused(f"là tập lệnh (script) có thể chạy trên máy người mở, {NOT_ACCEPTED}")


# --- ZIP-based office files -------------------------------------------------------------------------------------

_BOMB = ("là tệp nén bất thường (phần giải nén lớn gấp nhiều lần tệp gốc hoặc quá nhiều thành phần — dấu hiệu "
         "«bom nén»); hệ thống không mở tệp này.")
_MACRO = ("có chứa macro hoặc mã chạy được (VBA, ActiveX, Basic); hệ thống không nhận tệp chứa macro. Hãy lưu lại "
          "dạng .docx/.xlsx/.odt không macro hoặc PDF rồi tải lên.")


def _zip_directory(data: bytes) -> tuple[int, int]:
    """(entries, central directory bytes) from the end-of-central-directory record; refuse ZIP64 archives."""
    tail = data[-(65536 + 22):]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise FileRefused("không phải tệp văn phòng hợp lệ (cấu trúc nén bị hỏng).")
    _, _, _, entries, cd_size, cd_offset, _ = struct.unpack("<HHHHIIH", tail[at + 4:at + 22])
    # No office document of at most a few tens of MB needs ZIP64 (more than 65,535 parts or 4 GB).
    zip64 = b"PK\x06\x07" in tail[max(0, at - 20):at]
    if zip64 or entries == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        raise FileRefused(_BOMB, "zip64 archive")
    return entries, cd_size


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    with zf.open(info) as member:
        return member.read(limit)


def zip_kind(data: bytes) -> str | None:
    """DOCX, XLSX or ODT from the central directory and a few bounded reads; refuse bombs and macros."""
    entries, cd_size = _zip_directory(data)
    if entries > MAX_ZIP_MEMBERS or cd_size > MAX_ZIP_DIRECTORY_BYTES:
        raise FileRefused(_BOMB, f"zip: {entries} entries, directory {cd_size} bytes")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise FileRefused(_BOMB, f"zip: {len(infos)} entries")
            total = 0
            for info in infos:
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                inflated = info.file_size > ZIP_RATIO_FLOOR and ratio > MAX_ZIP_RATIO
                if info.file_size > MAX_ZIP_MEMBER_BYTES or inflated:
                    raise FileRefused(_BOMB, f"zip member {info.filename!r}: {info.file_size} bytes, ratio {ratio:.0f}")
            if total > MAX_ZIP_TOTAL_BYTES:
                raise FileRefused(_BOMB, f"zip: {total} bytes uncompressed")
            by_name = {i.filename: i for i in infos}
            lowered = [n.lower() for n in by_name]
            if any(n.endswith("vbaproject.bin") or n.endswith("vbadata.xml") or "macrosheets/" in n
                   or "activex/" in n or n.startswith(("basic/", "scripts/")) for n in lowered):
                raise FileRefused(_MACRO, "zip: macro part")
            if "mimetype" in by_name and _read_member(zf, by_name["mimetype"], 128).strip() == ODT.encode():
                return ODT
            types = by_name.get("[Content_Types].xml")
            if types is not None:
                declared = _read_member(zf, types, MAX_ZIP_META_BYTES).lower()
                if b"macroenabled" in declared or b"vbaproject" in declared:
                    raise FileRefused(_MACRO, "ooxml: macro-enabled content type")
                if "word/document.xml" in by_name:
                    return DOCX
                if "xl/workbook.xml" in by_name:
                    return XLSX
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, ValueError, RuntimeError,
            NotImplementedError, EOFError):
        return None
    return None


# --- PDF ---------------------------------------------------------------------------------------------------------

def _pdf_limits() -> dict[str, int]:
    return {
        "page_tree_maximum_entries": MAX_PDF_PAGES * 2,
        "page_tree_maximum_page_entries": MAX_PDF_PAGES * 64,
        "zlib_maximum_output_length": MAX_PDF_STREAM_BYTES,
        "lzw_maximum_output_length": MAX_PDF_STREAM_BYTES,
        "run_length_maximum_output_length": MAX_PDF_STREAM_BYTES,
        "brotli_maximum_output_length": MAX_PDF_STREAM_BYTES,
        "maximum_declared_stream_length": MAX_PDF_STREAM_BYTES,
        "image_maximum_buffer_size": MAX_PDF_STREAM_BYTES,
        "stream_parsing_work_maximum_count": 500_000,
        "xform_maximum_invocations_per_extraction": 500,
    }


def _object_count(reader: PdfReader) -> int:
    return sum(len(v) for v in reader.xref.values()) + len(reader.xref_objStm)


def _resolve(value: object) -> object:
    return value.get_object() if isinstance(value, IndirectObject) else value


def _action_is_active(action: object, depth: int = 0) -> bool:
    action = _resolve(action)
    if isinstance(action, ArrayObject):  # an explicit destination ([page /Fit]) only moves the view
        return False
    if not isinstance(action, DictionaryObject) or depth > 8:
        return isinstance(action, DictionaryObject)
    if str(action.get("/S", "")) in _PDF_ACTIVE_ACTIONS or "/JS" in action:
        return True
    following = _resolve(action.get("/Next"))
    chain = following if isinstance(following, ArrayObject) else [following] if following is not None else []
    return any(_action_is_active(a, depth + 1) for a in chain)


def _catalog_is_active(reader: PdfReader) -> bool:
    root = reader.trailer["/Root"].get_object()
    if _action_is_active(root.get("/OpenAction")) or "/AA" in root:
        return True
    names = _resolve(root.get("/Names"))
    if isinstance(names, DictionaryObject) and ("/JavaScript" in names or "/EmbeddedFiles" in names):
        return True
    form = _resolve(root.get("/AcroForm"))
    return isinstance(form, DictionaryObject) and "/XFA" in form


def _page_is_active(page: DictionaryObject) -> bool:
    if "/AA" in page:
        return True
    annots = _resolve(page.get("/Annots"))
    if not isinstance(annots, ArrayObject):
        return False
    for annot in annots[:500]:
        annot = _resolve(annot)
        if isinstance(annot, DictionaryObject) and (
                "/AA" in annot or _action_is_active(annot.get("/A"))
                or str(annot.get("/Subtype", "")) in ("/RichMedia", "/Screen", "/Movie", "/3D", "/FileAttachment")):
            return True
    return False


def raw_pdf_is_active(data: bytes) -> bool:
    """A byte scan for active names (with ``#xx`` escapes undone); no parsing, so cheap enough at serve time."""
    return _PDF_ACTIVE_RAW.search(_PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)) is not None


def read_pdf(data: bytes, *, extract_text: bool = True) -> PdfFacts:
    """Open ``data`` as a reader would, within limits; raise FileRefused for what a worker must not chew.

    pypdf's own errors (damaged files) pass through for the caller to word; its limits become FileRefused.
    """
    try:
        with apply_configuration(**_pdf_limits()):
            return _read_pdf(data, extract_text)
    except LimitReachedError as exc:
        raise FileRefused("có cấu trúc quá lớn hoặc quá phức tạp để hệ thống mở an toàn; hãy in lại ra PDF hoặc "
                          "chia thành nhiều tệp.", f"pypdf limit: {exc}") from None


def _read_pdf(data: bytes, extract_text: bool) -> PdfFacts:
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        raise FileRefused("là PDF có mật khẩu (mã hóa). Hãy gỡ mật khẩu rồi tải lên lại, để mọi người được giao "
                          "xử lý đọc được và hệ thống kiểm tra được chữ ký số.", "encrypted pdf")
    objects = _object_count(reader)
    if objects > MAX_PDF_OBJECTS:
        raise FileRefused(f"có cấu trúc quá lớn ({objects} đối tượng, tối đa {MAX_PDF_OBJECTS}); hãy in lại ra PDF "
                          "hoặc chia thành nhiều tệp.", f"pdf: {objects} objects")
    tree = _resolve(reader.trailer["/Root"].get_object().get("/Pages"))
    declared = _resolve(tree.get("/Count", 0)) if isinstance(tree, DictionaryObject) else 0
    if isinstance(declared, int) and declared > MAX_PDF_PAGES:
        raise FileRefused(_too_many_pages(declared), f"pdf: /Count {declared}")
    pages = len(reader.pages)
    if pages > MAX_PDF_PAGES:
        raise FileRefused(_too_many_pages(pages), f"pdf: {pages} pages")
    active = raw_pdf_is_active(data) or _catalog_is_active(reader) or any(_page_is_active(p) for p in reader.pages)
    return PdfFacts(pages=pages, text=_text(reader) if extract_text else "", active=active)


def pdf_is_active(data: bytes) -> bool:
    """Whether a stored PDF may act when opened (so it is sent as a download, never shown inline)."""
    if raw_pdf_is_active(data):
        return True
    try:
        return read_pdf(data, extract_text=False).active
    except Exception:  # whatever fails to parse here is not shown inline either
        log.info("stored PDF not parsed for the inline check; served as a download", exc_info=True)
        return True


def _too_many_pages(pages: int) -> str:
    return f"có {pages} trang, vượt giới hạn {MAX_PDF_PAGES} trang cho mỗi tệp; hãy chia thành nhiều tệp."


def _text(reader: PdfReader, max_chars: int = 1_000_000) -> str:
    """Search text of the first pages. A time budget too: stopping early only shortens what search finds."""
    chunks: list[str] = []
    size = 0
    deadline = time.monotonic() + TEXT_SECONDS
    for page in reader.pages[:MAX_TEXT_PAGES]:
        try:
            chunk = page.extract_text() or ""
        except LimitReachedError:
            chunk = ""
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            chunk = ""  # text is for search only: a page we cannot read is not a reason to refuse
        chunks.append(chunk)
        size += len(chunk)
        if size > max_chars or time.monotonic() > deadline:
            break
    return "\n".join(chunks)[:max_chars]
