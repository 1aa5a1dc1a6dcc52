"""SoICT's usage table as XLSX (openpyxl) and PDF (app.render.render_table_report)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.render import render_table_report

from .queries import ProvinceUsageResult, UsageRowInfo

COLUMNS = ["STT", "Cơ quan", "VB đến đã vào sổ", "Tỷ lệ VB đến điện tử (%)", "VB đi đã ban hành",
           "Tỷ lệ VB đi ký số (%)", "Lượt quy trình VB đến", "Lượt quy trình VB đi", "Xử lý đúng hạn",
           "Xử lý quá hạn", "Đang xử lý", "Trong đó quá hạn", "Tỷ lệ đúng hạn (%)", "Đánh giá"]


HEADER_FILL = PatternFill("solid", fgColor="E3F2FD")


def style_header(ws: Worksheet, row: int) -> None:
    """Bold, centred, wrapped and shaded: the header row of every table we export."""
    for cell in ws[row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.fill = HEADER_FILL


def set_widths(ws: Worksheet, widths: list[int]) -> None:
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w


def workbook_bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}".replace(".", ",")


def _verdict(row: UsageRowInfo) -> str:
    return "Đạt" if row.meets_minimum else "Chưa đạt (" + "; ".join(row.shortfalls) + ")"


def usage_rows(result: ProvinceUsageResult) -> list[list[object]]:
    """The table both exports print, one row per agency (numbers stay numbers for the spreadsheet)."""
    rows: list[list[object]] = []
    for i, r in enumerate(result.rows, start=1):
        rows.append([i, r.name, r.incoming_registered, r.electronic_rate, r.outgoing_issued, r.signed_rate,
                     r.incoming_instances, r.outgoing_instances, r.tasks.done_on_time, r.tasks.done_late,
                     r.tasks.pending, r.tasks.overdue, r.tasks.on_time_rate, _verdict(r)])
    t = result.total
    rows.append(["", t.name, t.incoming_registered, t.electronic_rate, t.outgoing_issued, t.signed_rate,
                 t.incoming_instances, t.outgoing_instances, t.tasks.done_on_time, t.tasks.done_late,
                 t.tasks.pending, t.tasks.overdue, t.tasks.on_time_rate,
                 f"{len(result.below_minimum)} cơ quan chưa đạt"])
    return rows


def _title(result: ProvinceUsageResult) -> str:
    return f"Thống kê sử dụng phần mềm quản lý văn bản và điều hành — {result.period.label}"


def usage_xlsx(result: ProvinceUsageResult) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Thống kê sử dụng"
    ws.append([_title(result)])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([f"Ngưỡng tối thiểu mỗi kỳ: {result.threshold.min_incoming_instances} lượt quy trình văn bản đến, "
               f"{result.threshold.min_outgoing_instances} lượt quy trình văn bản đi"])
    ws.append(COLUMNS)
    header = ws.max_row
    style_header(ws, header)
    flagged = PatternFill("solid", fgColor="FDECEA")
    for row in usage_rows(result):
        ws.append(row)
        if isinstance(row[-1], str) and row[-1].startswith("Chưa đạt"):
            for cell in ws[ws.max_row]:
                cell.fill = flagged
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    set_widths(ws, [5, 46, 12, 12, 12, 12, 12, 12, 11, 11, 11, 11, 11, 44])
    ws.freeze_panes = ws.cell(row=header + 1, column=3)
    return workbook_bytes(wb)


def usage_pdf(result: ProvinceUsageResult) -> bytes:
    rows = [[_pct(c) if isinstance(c, float) else ("" if c is None else str(c)) for c in row]
            for row in usage_rows(result)]
    subtitle = (f"Ngưỡng tối thiểu: {result.threshold.min_incoming_instances} lượt quy trình văn bản đến và "
                f"{result.threshold.min_outgoing_instances} lượt quy trình văn bản đi trong kỳ")
    return render_table_report(_title(result), COLUMNS, rows, subtitle=subtitle)
