"""A dossier as a package of its signed originals, as a reading copy PDF, and as XML (Phụ lục V, VI Mục III).

The package (ZIP) is what an archive receives: the index PDF, each document's files exactly as stored
(the sealed final file of an outgoing document, the signed file an incoming one arrived with, appendices),
in date order, with their SHA-256 and signature verdict in the index and the XML beside them. The merged
PDF is only a reading copy: merging rewrites the files, so no signature in it is valid, and it says so.

XML schema (namespace ``urn:qlvb:vinhphuc:hoso:1``, UTF-8, all text NFC), element names as in Phụ lục VI:

    HoSo[@version="1.0"]
      FileCode/{OrganId, FileCatalog, FileNotation}   mã hồ sơ = cơ quan . năm . ký hiệu
      Title, Maintenance, Rights, Creator, Language, StartDate, EndDate (YYYY-MM-DD, empty while open),
      DocTotal, PageTotal, Description
      Documents/Document*[@order]
        DocOrdinal, Direction (incoming|outgoing), TypeName, CodeNumber, CodeNotation, IssuedDate,
        OrganName, Subject, PageAmount
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import pathlib
import re
import xml.etree.ElementTree as ET
import zipfile

from defusedxml.ElementTree import fromstring as safe_fromstring
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from app.core.errors import NotFoundError
from app.core.text import fold, nfc
from app.documents import queries as documents_queries
from app.documents.models import Attachment
from app.documents.storage import default_storage
from app.extensions import db
from app.render import render_table_report
from app.tenancy.models import Agency
from app.workflow.info import ActorRef

from .errors import DossierFileCorruptError
from .info import DossierEntryInfo, DossierInfo
from .queries import dossier_contents, get_dossier, list_dossiers

NAMESPACE = "urn:qlvb:vinhphuc:hoso:1"
CONTENTS_COLUMNS = ["STT", "Số, ký hiệu văn bản", "Ngày tháng năm văn bản", "Tên loại và trích yếu nội dung văn bản",
                    "Tác giả văn bản", "Tờ số", "Ghi chú"]
LIST_COLUMNS = ["Số và ký hiệu hồ sơ", "Tên đề mục và tiêu đề hồ sơ", "Thời hạn bảo quản",
                "Đơn vị/người lập hồ sơ", "Ghi chú"]
# Which file is "the" document: the issued (sealed) one, else the leader-signed, else a scan or the file it
# arrived with, else an unsigned final or preview rendering.
_KIND_ORDER = {"sealed": 0, "signed": 1, "scan": 2, "original": 3, "final": 4, "rendered": 5, "preview": 6}
# Files that travel with the main one in the package.
_APPENDIX_KINDS = ("appendix_signed", "appendix")
READING_COPY_NOTE = ("Bản ghép để đọc: khi ghép, các tệp được ghi lại nên chữ ký số trên bản này không còn giá trị. "
                     "Bản gốc có chữ ký số nằm trong gói hồ sơ (.zip).")
PACKAGE_COLUMNS = ["STT", "Số, ký hiệu văn bản", "Ngày tháng năm văn bản", "Tên loại và trích yếu nội dung văn bản",
                   "Tác giả văn bản", "Tệp trong gói", "Chữ ký số", "SHA-256"]


def _date(value: object) -> str:
    return value.strftime("%d/%m/%Y") if value else ""  # type: ignore[attr-defined]


def _main_pdfs(actor: ActorRef, entries: list[DossierEntryInfo]) -> dict[int, bytes]:
    """The main PDF of each document the actor may open (others are listed, never included)."""
    ids = [e.document_id for e in entries]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Attachment.id, Attachment.document_id, Attachment.kind)
        .where(Attachment.document_id.in_(ids), Attachment.content_type == "application/pdf")
    ).all()
    best: dict[int, tuple[int, int]] = {}
    for att_id, doc_id, kind in rows:
        rank = (_KIND_ORDER.get(kind, 9), att_id)
        if doc_id not in best or rank < best[doc_id]:
            best[doc_id] = rank
    out = {}
    for doc_id, (_, att_id) in best.items():
        try:
            _, data = documents_queries.attachment_bytes(actor.agency_id, att_id, actor)
        except NotFoundError:
            continue
        out[doc_id] = data
    return out


def dossier_pdf(actor: ActorRef, dossier_id: int) -> bytes:
    """Mục lục văn bản (Phụ lục V) followed by every document's PDF in the dossier's order, with bookmarks."""
    dossier = get_dossier(actor, dossier_id)
    entries = dossier_contents(actor, dossier_id)
    pdfs = _main_pdfs(actor, entries)
    readers: dict[int, PdfReader] = {}
    for doc_id, data in pdfs.items():
        try:
            readers[doc_id] = PdfReader(io.BytesIO(data))
        except Exception:  # noqa: S112  a damaged file must not stop the export; the list says so
            continue
    rows, sheet = [], 1
    for e in entries:
        reader = readers.get(e.document_id)
        if reader is not None:
            count = len(reader.pages)
            sheets = f"{sheet}–{sheet + count - 1}" if count > 1 else str(sheet)
            sheet += count
            note = ""
        else:
            sheets, note = "", "Không có tệp PDF"
        rows.append([str(e.position), e.number_notation or "", _date(e.issue_date),
                     " ".join(x for x in (e.type_name, e.summary) if x), e.author or "", sheets, note])
    subtitle = (f"Hồ sơ số {dossier.code} — {dossier.title} — Thời hạn bảo quản: {dossier.retention_label}. "
                f"{READING_COPY_NOTE}")
    contents = render_table_report("Mục lục văn bản (bản đọc)", CONTENTS_COLUMNS, rows, subtitle=subtitle)
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(contents)))
    writer.add_outline_item(title="Mục lục văn bản", page_number=0)
    for e in entries:
        reader = readers.get(e.document_id)
        if reader is None:
            continue
        start = len(writer.pages)
        writer.append(reader)
        writer.add_outline_item(title=f"{e.position}. {e.number_notation or ''} {e.summary}"[:120], page_number=start)
    writer.add_metadata({"/Title": nfc(f"Hồ sơ {dossier.file_code}: {dossier.title} (bản đọc, không có giá trị ký số)"),
                         "/Producer": "QLVB"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _files_for_archive(actor: ActorRef, entries: list[DossierEntryInfo]) -> dict[int, list[Attachment]]:
    """Per document: its main file (best kind) then its appendices, as stored, if the actor may open it."""
    ids = [e.document_id for e in entries]
    rows = list(db.session.scalars(select(Attachment).where(Attachment.document_id.in_(ids)))) if ids else []
    by_doc: dict[int, list[Attachment]] = {}
    for row in rows:
        by_doc.setdefault(row.document_id, []).append(row)
    out: dict[int, list[Attachment]] = {}
    for doc_id, atts in by_doc.items():
        try:
            documents_queries.get_document(actor.agency_id, doc_id, actor)
        except NotFoundError:
            continue
        mains = sorted((a for a in atts if a.kind in _KIND_ORDER), key=lambda a: (_KIND_ORDER[a.kind], -a.id))
        signed_appendices = [a for a in atts if a.kind == "appendix_signed"]
        appendices = signed_appendices or [a for a in atts if a.kind == "appendix"]
        out[doc_id] = ([mains[0]] if mains else []) + sorted(appendices, key=lambda a: a.id)
    return out


def _safe_part(text: str) -> str:
    folded = fold(text).replace(" ", "-")
    return re.sub(r"[^a-z0-9.-]+", "-", folded).strip("-")[:60] or "van-ban"


def dossier_package(actor: ActorRef, dossier_id: int) -> bytes:
    """The dossier for the archive (Phụ lục V): index PDF + every signed original unchanged + XML, as a ZIP."""
    dossier = get_dossier(actor, dossier_id)
    entries = sorted(dossier_contents(actor, dossier_id),
                     key=lambda e: (e.issue_date is None, e.issue_date or dt.date.min, e.position))
    files = _files_for_archive(actor, entries)
    store = default_storage()
    buffer = io.BytesIO()
    rows: list[list[str]] = []
    sums: list[str] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:  # PDFs are compressed already
        for order, e in enumerate(entries, start=1):
            names, verdicts, digests = [], [], []
            for index, att in enumerate(files.get(e.document_id, [])):
                stem = f"{order:03d}-{_safe_part(e.number_notation or e.summary)}"
                suffix = "" if index == 0 else f"-phu-luc-{index}"
                extension = pathlib.PurePath(att.filename).suffix.lower() or ".pdf"
                name = f"van-ban/{stem}{suffix}{extension}"
                data = store.get(att.storage_key)
                if hashlib.sha256(data).hexdigest() != att.sha256:
                    raise DossierFileCorruptError(f"Tệp «{att.filename}» của văn bản {e.number_notation or e.summary} "
                                         "không khớp mã kiểm tra khi lưu; không xuất gói hồ sơ",
                                         log=f"sha256 mismatch for attachment {att.id}")
                archive.writestr(name, data)
                names.append(name.removeprefix("van-ban/"))
                verdicts.append(att.verification_label or ("Không có chữ ký số" if att.content_type ==
                                                            "application/pdf" else "—"))
                digests.append(att.sha256[:16] + "…")
                sums.append(f"{att.sha256}  {name}")
            rows.append([str(order), e.number_notation or "", _date(e.issue_date),
                         " ".join(x for x in (e.type_name, e.summary) if x), e.author or "",
                         "\n".join(names) or "Không có tệp", "\n".join(verdicts), "\n".join(digests)])
        subtitle = (f"Hồ sơ số {dossier.code} — {dossier.title} — Thời hạn bảo quản: {dossier.retention_label}. "
                    "Các tệp văn bản trong gói giữ nguyên như khi ban hành hoặc khi nhận, kèm chữ ký số; "
                    "mã SHA-256 đầy đủ trong tệp SHA256SUMS.")
        archive.writestr("00-muc-luc.pdf", render_table_report("Mục lục văn bản", PACKAGE_COLUMNS, rows,
                                                                subtitle=subtitle))
        archive.writestr("ho-so.xml", dossier_xml(actor, dossier_id))
        archive.writestr("SHA256SUMS", "\n".join(sums) + ("\n" if sums else ""))
    return buffer.getvalue()


def _split_notation(value: str | None) -> tuple[str, str]:
    if not value:
        return "", ""
    number, _, notation = value.partition("/")
    return (number, notation) if notation else ("", value)


def _sub(parent: ET.Element, tag: str, text: object = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{NAMESPACE}}}{tag}", attrs)
    if text is not None:
        el.text = nfc(str(text))
    return el


def dossier_xml(actor: ActorRef, dossier_id: int) -> bytes:
    """The dossier's metadata and contents as UTF-8 XML (schema in this module's docstring)."""
    dossier = get_dossier(actor, dossier_id)
    entries = dossier_contents(actor, dossier_id)
    agency = db.session.get(Agency, dossier.agency_id)
    ET.register_namespace("", NAMESPACE)
    root = ET.Element(f"{{{NAMESPACE}}}HoSo", {"version": "1.0"})
    code = _sub(root, "FileCode")
    _sub(code, "OrganId", (agency.org_identifier or agency.code) if agency else "")
    _sub(code, "FileCatalog", dossier.year)
    _sub(code, "FileNotation", dossier.code)
    _sub(root, "Title", dossier.title)
    _sub(root, "Maintenance", dossier.retention_label)
    _sub(root, "Rights", dossier.access_label)
    _sub(root, "Creator", dossier.responsible_name)
    _sub(root, "Language", dossier.language)
    _sub(root, "StartDate", dossier.opened_on.isoformat())
    _sub(root, "EndDate", dossier.closed_on.isoformat() if dossier.closed_on else "")
    _sub(root, "DocTotal", dossier.doc_total)
    _sub(root, "PageTotal", dossier.page_total)
    _sub(root, "Description", dossier.note)
    documents = _sub(root, "Documents")
    for e in entries:
        doc = _sub(documents, "Document", order=str(e.position))
        number, notation = _split_notation(e.number_notation)
        _sub(doc, "DocOrdinal", e.position)
        _sub(doc, "Direction", e.direction)
        _sub(doc, "TypeName", e.type_name or "")
        _sub(doc, "CodeNumber", number)
        _sub(doc, "CodeNotation", notation)
        _sub(doc, "IssuedDate", e.issue_date.isoformat() if e.issue_date else "")
        _sub(doc, "OrganName", e.author or "")
        _sub(doc, "Subject", e.summary)
        _sub(doc, "PageAmount", e.pages if e.pages is not None else "")
    ET.indent(root)
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    safe_fromstring(data)  # well-formed, or fail loudly here rather than in the archive's system
    return data


def dossier_list_pdf(actor: ActorRef, year: int) -> bytes:
    """Danh mục hồ sơ (Phụ lục V) of one year: the dossiers the actor may see."""
    dossiers: list[DossierInfo] = list_dossiers(actor, year)
    rows = [[d.code, d.title, d.retention_label,
             " / ".join(x for x in (d.department_name, d.responsible_name) if x), d.note] for d in dossiers]
    agency = db.session.get(Agency, actor.agency_id)
    return render_table_report(f"Danh mục hồ sơ năm {year}", LIST_COLUMNS, rows,
                               subtitle=agency.name if agency else None)
