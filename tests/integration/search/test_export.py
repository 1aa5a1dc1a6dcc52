"""Search results exported as XLSX, PDF and DOCX: the ticked columns, every row of the search, nothing else."""

from __future__ import annotations

import datetime as dt
import io

import pdfplumber
import pytest
from docx import Document as Docx
from openpyxl import load_workbook
from sqlalchemy import select

from app.accounts.models import AuditEvent
from app.documents import services as documents
from app.documents.models import Document
from app.extensions import db
from app.search import export as search_export
from app.search.criteria import criteria_from_params
from app.search.errors import SearchExportError
from tests.integration.documents.conftest import incoming_data


def _register(o, count: int, summary: str, **extra) -> None:
    for i in range(count):
        documents.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(
            summary=f"{summary} số {i + 1}", issue_date=dt.date(2026, 10, 1) + dt.timedelta(days=i), **extra))
    db.session.commit()


def _xlsx_table(content: bytes) -> tuple[list[str], list[list[object]]]:
    ws = load_workbook(io.BytesIO(content)).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header_at = next(i for i, r in enumerate(rows) if r[0] == "STT")
    return [str(c) for c in rows[header_at]], rows[header_at + 1:]


def test_xlsx_has_the_chosen_columns_and_every_page_of_rows(office, logged_in):
    o, other = office(), office()
    _register(o, 27, "Kế hoạch chuyển đổi số")  # more than one page of 20
    _register(o, 2, "Báo cáo tài chính")
    _register(other, 3, "Kế hoạch chuyển đổi số của cơ quan khác")
    c = logged_in(o.accounts["clerk"])
    resp = c.get("/search/export?q=chuyen+doi+so&format=xlsx&cols=summary&cols=issue_date&cols=number_notation")
    assert resp.status_code == 200
    assert resp.mimetype == search_export.FORMATS["xlsx"][0]
    disposition = resp.headers["Content-Disposition"]
    assert "ket-qua-tim-kiem-" in disposition and disposition.endswith('.xlsx"')
    header, rows = _xlsx_table(resp.data)
    assert header == ["STT", "Số, ký hiệu", "Ngày văn bản", "Trích yếu"]  # the table's order, not the URL's
    assert len(rows) == 27
    assert all("chuyển đổi số" in str(r[3]) and "cơ quan khác" not in str(r[3]) for r in rows)
    assert [r[0] for r in rows] == list(range(1, 28))
    # Newest first without a relevance difference: the page's own order.
    dates = [r[2] for r in rows]
    assert dates == sorted(dates, reverse=True) and isinstance(dates[0], dt.datetime)
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert str(ws["A1"].value) == "KẾT QUẢ TÌM KIẾM VĂN BẢN"
    assert "Từ khóa: “chuyen doi so”" in str(ws["A2"].value)
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.kind == "export", AuditEvent.target_type == "search", AuditEvent.agency_id == o.agency_id)).all()
    assert len(events) == 1 and events[0].agency_id == o.agency_id and events[0].detail["rows"] == 27
    assert events[0].user_id == o.accounts["clerk"].user_id


def test_pdf_is_a_landscape_table_with_criteria_print_time_and_page_numbers(office, logged_in):
    o = office()
    _register(o, 45, "Công văn về chuyển đổi số")
    c = logged_in(o.accounts["clerk"])
    resp = c.get("/search/export?q=chuyen+doi+so&format=pdf&cols=summary&cols=issuer&cols=status")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    with pdfplumber.open(io.BytesIO(resp.data)) as pdf:
        pages = pdf.pages
        assert len(pages) >= 2
        assert all(p.width > p.height for p in pages)  # A4 landscape
        first = pages[0].extract_text()
        assert "KẾT QUẢ TÌM KIẾM VĂN BẢN" in first
        assert "Điều kiện tìm kiếm: Từ khóa: “chuyen doi so”" in first
        assert "In lúc" in first and "Số văn bản: 45." in first
        assert f"1/{len(pages)}" in first and f"{len(pages)}/{len(pages)}" in pages[-1].extract_text()
        header = pages[0].extract_tables()[0][0]
        assert header == ["STT", "Trích yếu", "Cơ quan ban hành", "Trạng thái"]
        body = []
        for page in pages:
            for table in page.extract_tables():
                body.extend(r for r in table if r[0] != "STT")
    assert len(body) == 45
    assert {r[3] for r in body} == {"Đã vào sổ"}
    assert {r[2] for r in body} == {"Ủy ban nhân dân tỉnh Vĩnh Phúc"}


def test_docx_has_the_header_row_and_rows(office, logged_in):
    o = office()
    _register(o, 4, "Thông báo lịch họp giao ban", urgency="khan")
    c = logged_in(o.accounts["clerk"])
    resp = c.get("/search/export?q=giao+ban&format=docx&cols=urgency&cols=summary&cols=arrival_number")
    assert resp.status_code == 200
    doc = Docx(io.BytesIO(resp.data))
    table = doc.tables[0]
    assert [cell.text for cell in table.rows[0].cells] == ["STT", "Trích yếu", "Số đến", "Độ khẩn"]
    rows = [[cell.text for cell in r.cells] for r in table.rows[1:]]
    assert len(rows) == 4 and {r[3] for r in rows} == {"Khẩn"}
    assert all(r[2].isdigit() for r in rows)
    assert doc.paragraphs[0].text == "KẾT QUẢ TÌM KIẾM VĂN BẢN"
    assert doc.sections[0].page_width > doc.sections[0].page_height
    assert any("Điều kiện tìm kiếm" in p.text for p in doc.paragraphs)


def test_export_sees_only_what_the_search_shows(office, logged_in):
    o = office()
    _register(o, 3, "Quyết định phê duyệt dự án")
    secret = db.session.scalars(select(Document).where(Document.agency_id == o.agency_id)).first()
    secret.confidentiality = "mat"  # should one ever exist, it stays out of results and exports
    db.session.commit()
    clerk = logged_in(o.accounts["clerk"])
    page = clerk.get("/search/?q=phe+duyet").get_data(as_text=True)
    assert "2 văn bản phù hợp" in page
    _, rows = _xlsx_table(clerk.get("/search/export?q=phe+duyet&format=xlsx").data)
    assert len(rows) == 2
    # Someone who may not see these documents exports an empty table, not theirs.
    _, none = _xlsx_table(logged_in(o.accounts["outsider"]).get("/search/export?q=phe+duyet&format=xlsx").data)
    assert none == []


def test_export_refuses_beyond_the_maximum_with_a_vietnamese_message(office, logged_in, monkeypatch):
    o = office()
    _register(o, 4, "Giấy mời họp")
    monkeypatch.setattr(search_export, "MAX_EXPORT_ROWS", 3)
    c = logged_in(o.accounts["clerk"])
    resp = c.get("/search/export?q=giay+moi&format=xlsx")
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "vượt giới hạn mỗi lần xuất" in body and "hơn 3 văn bản" in body
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.target_type == "search",
                                                      AuditEvent.agency_id == o.agency_id)) is None


def test_bad_format_or_column_or_no_criteria(office, logged_in):
    c = logged_in(office().accounts["clerk"])
    assert "Định dạng xuất không hợp lệ" in c.get("/search/export?q=x&format=exe").get_data(as_text=True)
    assert "Cột cần xuất không hợp lệ" in c.get("/search/export?q=x&format=pdf&cols=password").get_data(as_text=True)
    assert "trước khi xuất" in c.get("/search/export?format=xlsx").get_data(as_text=True)


def test_search_page_offers_labelled_columns_kept_in_the_query_string(office, logged_in):
    o = office()
    _register(o, 22, "Kế hoạch tuyên truyền")
    c = logged_in(o.accounts["clerk"])
    body = c.get("/search/?q=tuyen+truyen&cols=summary&cols=signer").get_data(as_text=True)
    assert '<label class="checkbox-inline" for="qs-col-signer"><input type="checkbox" id="qs-col-signer" ' \
           'name="cols" value="signer" checked>' in body
    assert 'id="qs-col-status" name="cols" value="status" >' in body
    assert 'formaction="/search/export"' in body and "Xuất Excel" in body and "Xuất Word" in body
    assert "cols=summary&amp;cols=signer" in body  # the next page keeps the choice


def test_anonymous_export_goes_to_login(office, client_for):
    o = office()
    resp = client_for(o.accounts["clerk"].host).get("/search/export?q=x&format=xlsx")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_other_agency_criteria_names_are_not_printed(office):
    o, other = office(), office()
    dept = next(iter(other.depts.values()))
    criteria = criteria_from_params({"q": "x", "department": str(dept)})
    assert "Phòng ban" not in search_export.describe_criteria(o.agency_id, criteria)
    with pytest.raises(SearchExportError):
        search_export.parse_columns(["summary", "nope"])
