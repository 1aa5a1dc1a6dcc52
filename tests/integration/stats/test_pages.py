"""Statistics pages over HTTP: leaders see their agency; SoICT sees all on the central domain, with exports."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from pypdf import PdfReader

from app.documents import services as documents
from app.extensions import db
from tests.integration.documents.conftest import incoming_data


def test_leader_sees_the_agency_page_others_do_not(office, logged_in):
    o = office()
    documents.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(channel="electronic"))
    db.session.commit()
    body = logged_in(o.accounts["leader"]).get("/stats/?kind=year").get_data(as_text=True)
    assert "Thống kê sử dụng — Năm" in body and "Văn bản đến đã vào sổ" in body and "Theo phòng ban" in body
    assert "dist/charts.js" in body
    denied = logged_in(o.accounts["specialist"]).get("/stats/")
    assert denied.status_code in (302, 403)


def test_soict_dashboard_and_exports(office, make_account, logged_in):
    o = office()
    documents.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data())
    db.session.commit()
    soict = logged_in(make_account("qlvb", ["soict_admin"]))
    body = soict.get("/usage/?kind=year&min_in=1&min_out=1").get_data(as_text=True)
    assert "Thống kê sử dụng phần mềm" in body and "Chưa đạt" in body
    assert 'data-chart="chart-use"' in body and "dist/charts.js" in body
    xlsx = soict.get("/usage/export.xlsx?kind=year")
    assert xlsx.status_code == 200, (xlsx.status_code, xlsx.headers.get("Location"), xlsx.data[:300])
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    names = [row[1] for row in ws.iter_rows(min_row=4, values_only=True)]
    assert "Sở Thử nghiệm" in names and names[-1] == "Toàn tỉnh"
    pdf = soict.get("/usage/export.pdf?kind=year")
    assert pdf.mimetype == "application/pdf"
    assert "THỐNG KÊ SỬ DỤNG" in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text().upper()


def test_dashboard_is_not_on_agency_domains(office, logged_in):
    o = office()
    resp = logged_in(o.accounts["leader"]).get("/usage/")
    assert resp.status_code in (302, 403)
