"""Search results as a file (Phụ lục VI III.6.h): the columns the user ticked, as XLSX, PDF or DOCX.

Exactly the rows of the search (every page, in the page's order), under the same agency and visibility rules,
bounded by MAX_EXPORT_ROWS; one audit line per export.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select

from app.core import clock, signals
from app.documents.models import Document, DocumentType, Register
from app.documents.queries import STATUS_LABELS, URGENCY_LABELS
from app.extensions import db
from app.render import render_table_report
from app.stats.export import set_widths, style_header, workbook_bytes
from app.tenancy.models import Department
from app.workflow.info import ActorRef

from .criteria import DIRECTIONS, SORTS, SearchCriteria
from .errors import SearchExportError
from .queries import all_matching_ids, matching_query, restrict_to_visible

MAX_EXPORT_ROWS = 5000
_CHUNK = 500  # ids per IN (…) when reading the rows


@dataclass(frozen=True)
class ExportColumn:
    key: str
    label: str
    width: int  # characters, in the spreadsheet


COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("number_notation", "Số, ký hiệu", 18),
    ExportColumn("issue_date", "Ngày văn bản", 12),
    ExportColumn("direction", "Đến/đi", 9),
    ExportColumn("doc_type", "Loại văn bản", 16),
    ExportColumn("summary", "Trích yếu", 60),
    ExportColumn("issuer", "Cơ quan ban hành", 30),
    ExportColumn("arrival_number", "Số đến", 8),
    ExportColumn("arrival_date", "Ngày đến", 12),
    ExportColumn("signer", "Người ký", 22),
    ExportColumn("urgency", "Độ khẩn", 11),
    ExportColumn("due_date", "Hạn xử lý", 12),
    ExportColumn("status", "Trạng thái", 15),
)
COLUMNS_BY_KEY = {c.key: c for c in COLUMNS}
DEFAULT_COLUMNS = ("number_notation", "issue_date", "doc_type", "summary", "issuer", "status")
FORMATS = {
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel"),
    "pdf": ("application/pdf", "PDF"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word"),
}
TITLE = "Kết quả tìm kiếm văn bản"
_INDEX = ExportColumn("index", "STT", 6)


@dataclass(frozen=True)
class SearchTableResult:
    """What every format prints: the title, the criteria and print time, the header and the rows."""

    title: str
    notes: tuple[str, ...]
    columns: tuple[ExportColumn, ...]  # STT first, then the chosen ones
    rows: tuple[tuple[Any, ...], ...]  # dates stay dates, numbers stay numbers
    printed_at: dt.datetime


@dataclass(frozen=True)
class ExportedFileResult:
    filename: str
    mimetype: str
    content: bytes
    row_count: int


def parse_columns(keys: Sequence[str]) -> tuple[str, ...]:
    """The chosen column keys in the table's own order; nothing chosen means the default set."""
    wanted = {k for k in keys if k}
    unknown = sorted(wanted - COLUMNS_BY_KEY.keys())
    if unknown:
        raise SearchExportError("Cột cần xuất không hợp lệ; hãy chọn lại các cột trong danh sách.",
                                log=f"unknown export columns {unknown!r}")
    return tuple(c.key for c in COLUMNS if c.key in wanted) or DEFAULT_COLUMNS


def _d(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _name(model: Any, row_id: int | None) -> str | None:
    if row_id is None:
        return None
    row = db.session.get(model, row_id)
    return getattr(row, "name", None) if row is not None else None


def describe_criteria(agency_id: int, criteria: SearchCriteria) -> str:
    """The criteria in words, as printed under the title."""
    c = criteria
    parts: list[str] = []
    if c.text:
        parts.append(f"Từ khóa: “{c.text}”")
    if c.direction:
        parts.append(DIRECTIONS[c.direction])
    if (type_name := _name(DocumentType, c.doc_type_id)) is not None:
        parts.append(f"Loại văn bản: {type_name}")
    register = db.session.get(Register, c.register_id) if c.register_id else None
    if register is not None and register.agency_id == agency_id:
        parts.append(f"Sổ: {register.name}")
    department = db.session.get(Department, c.department_id) if c.department_id else None
    if department is not None and department.agency_id == agency_id:
        parts.append(f"Phòng ban: {department.name}")
    if c.status:
        parts.append(f"Trạng thái: {STATUS_LABELS.get(c.status, c.status)}")
    if c.issuer:
        parts.append(f"Cơ quan ban hành: {c.issuer}")
    if c.date_from and c.date_to:
        parts.append(f"Ngày văn bản từ {_d(c.date_from)} đến {_d(c.date_to)}")
    elif c.date_from:
        parts.append(f"Ngày văn bản từ {_d(c.date_from)}")
    elif c.date_to:
        parts.append(f"Ngày văn bản đến {_d(c.date_to)}")
    parts.append(f"Sắp xếp: {SORTS.get(c.effective_sort, SORTS['date_desc']).lower()}")
    return "Điều kiện tìm kiếm: " + "; ".join(parts) + "."


def _cell(key: str, r: Any) -> Any:
    incoming = r.direction == "incoming"
    values: dict[str, Any] = {
        "number_notation": r.number_notation or "",
        "issue_date": r.issue_date,
        "direction": "Đến" if incoming else "Đi",
        "doc_type": r.type_name or "",
        "summary": r.summary or "",
        "issuer": r.issuer_name or "",
        "arrival_number": r.number if incoming and r.number else None,
        "arrival_date": r.arrival_date if incoming else None,
        "signer": r.signer_name or "",
        "urgency": URGENCY_LABELS.get(r.urgency or "", ""),
        "due_date": r.due_date,
        "status": STATUS_LABELS.get(r.status, ""),
    }
    return values[key]


def search_table(actor: ActorRef, criteria: SearchCriteria, column_keys: Sequence[str]) -> SearchTableResult:
    """Every row the search gives ``actor`` (all pages, the page's order), with the chosen columns."""
    keys = parse_columns(column_keys)
    if not (criteria.parsed or criteria.has_filters):
        raise SearchExportError("Hãy nhập từ khóa hoặc chọn điều kiện lọc rồi tìm trước khi xuất kết quả.")
    stmt = restrict_to_visible(matching_query(actor.agency_id, criteria), actor)
    ids = all_matching_ids(stmt, criteria, limit=MAX_EXPORT_ROWS)
    if ids is None:
        raise SearchExportError(
            f"Kết quả có hơn {MAX_EXPORT_ROWS:,} văn bản, vượt giới hạn mỗi lần xuất; hãy thêm từ khóa hoặc điều "
            "kiện lọc (ví dụ khoảng ngày) để thu hẹp rồi xuất lại.".replace(",", "."),
            log=f"search export over {MAX_EXPORT_ROWS} rows refused for user {actor.user_id}")
    by_id: dict[int, Any] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        rows = db.session.execute(
            select(Document.id, Document.direction, Document.status, Document.number, Document.number_notation,
                   DocumentType.name.label("type_name"), Document.issue_date, Document.arrival_date,
                   Document.issuer_name, Document.summary, Document.signer_name, Document.urgency,
                   Document.due_date)
            .outerjoin(DocumentType, DocumentType.id == Document.doc_type_id)
            .where(Document.id.in_(chunk), Document.agency_id == actor.agency_id)
        ).all()
        by_id.update((r.id, r) for r in rows)
    table_rows = tuple(
        (i, *(_cell(k, by_id[doc_id]) for k in keys)) for i, doc_id in enumerate(ids, start=1) if doc_id in by_id)
    printed = clock.now()
    local = printed.astimezone(clock.VN_TZ)
    notes = (describe_criteria(actor.agency_id, criteria),
             f"Số văn bản: {len(table_rows)}. In lúc {local:%H:%M} ngày {local:%d/%m/%Y}.")
    return SearchTableResult(TITLE, notes, (_INDEX, *(COLUMNS_BY_KEY[k] for k in keys)), table_rows, printed)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return _d(value)
    return str(value)


def table_xlsx(table: SearchTableResult) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Kết quả tìm kiếm"
    ws.append([table.title.upper()])
    ws["A1"].font = Font(bold=True, size=13)
    for line in table.notes:
        ws.append([line])
    ws.append([c.label for c in table.columns])
    header = ws.max_row
    style_header(ws, header)
    for row in table.rows:
        ws.append(list(row))
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, dt.date):
                cell.number_format = "DD/MM/YYYY"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    set_widths(ws, [c.width for c in table.columns])
    ws.freeze_panes = ws.cell(row=header + 1, column=1)
    ws.auto_filter.ref = f"A{header}:{ws.cell(row=ws.max_row, column=len(table.columns)).coordinate}"
    return workbook_bytes(wb)


def table_pdf(table: SearchTableResult) -> bytes:
    return render_table_report(table.title, [c.label for c in table.columns],
                               [[_text(v) for v in row] for row in table.rows], notes=list(table.notes),
                               numbered=False)


def table_docx(table: SearchTableResult) -> bytes:
    from docx import Document as Docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Docx()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(11)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.left_margin, section.right_margin = Mm(20), Mm(15)
    section.top_margin = section.bottom_margin = Mm(15)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(table.title.upper())
    run.bold, run.font.size = True, Pt(14)
    for line in table.notes:
        doc.add_paragraph(line)
    grid = doc.add_table(rows=1, cols=len(table.columns))
    grid.style = "Table Grid"
    head = grid.rows[0]
    flag = OxmlElement("w:tblHeader")  # the header row repeats on every page
    flag.set(qn("w:val"), "true")
    head._tr.get_or_add_trPr().append(flag)
    for cell, column in zip(head.cells, table.columns, strict=True):
        cell.text = ""
        header_run = cell.paragraphs[0].add_run(column.label)
        header_run.bold = True
    for row in table.rows:
        cells = grid.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = _text(value)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    footer._p.append(field)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


_WRITERS = {"xlsx": table_xlsx, "pdf": table_pdf, "docx": table_docx}


def export_search(actor: ActorRef, criteria: SearchCriteria, column_keys: Sequence[str],
                  fmt: str) -> ExportedFileResult:
    """The search results of ``actor`` as a file; an audit line says who exported what."""
    if fmt not in FORMATS:
        raise SearchExportError("Định dạng xuất không hợp lệ; hãy chọn Excel, PDF hoặc Word.",
                                log=f"unknown export format {fmt!r}")
    table = search_table(actor, criteria, column_keys)
    content = _WRITERS[fmt](table)
    stamp = table.printed_at.astimezone(clock.VN_TZ).strftime("%Y%m%d-%H%M")
    mimetype, label = FORMATS[fmt]
    signals.audit.send(
        kind="export", agency_id=actor.agency_id, user_id=actor.user_id, target_type="search",
        message=f"Xuất kết quả tìm kiếm ({label}, {len(table.rows)} văn bản)",
        detail={"format": fmt, "rows": len(table.rows), "columns": [c.key for c in table.columns[1:]],
                "criteria": criteria.to_params()})
    return ExportedFileResult(f"ket-qua-tim-kiem-{stamp}.{fmt}", mimetype, content, len(table.rows))
