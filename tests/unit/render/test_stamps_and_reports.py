from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from app.render import render_image_stamp, render_table_report, render_text_stamp, seal_box_over
from tests.unit.render.conftest import pdf_text, png

MM = 72 / 25.4


def _size(pdf: bytes) -> tuple[float, float]:
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return float(box.width), float(box.height)


def test_image_stamp_has_the_requested_size_and_the_image():
    pdf = render_image_stamp(png((0, 0, 200, 255)), width_mm=40, height_mm=20)
    width, height = _size(pdf)
    assert width == pytest.approx(40 * MM, abs=0.5) and height == pytest.approx(20 * MM, abs=0.5)
    assert b"/Subtype /Image" in pdf
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_text_stamp_keeps_vietnamese():
    lines = [
        "Người ký: Sở Thông tin và Truyền thông",
        "Cơ quan: Ủy ban nhân dân tỉnh Vĩnh Phúc",
        "Thời gian ký: 2026-11-05T09:30:00+07:00",
    ]
    pdf = render_text_stamp(lines)
    assert pdf_text(pdf).split("\n") == lines
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_seal_covers_left_third_of_signature():
    signature = (350.0, 140.0, 520.0, 225.0)
    x1, y1, x2, y2 = seal_box_over(signature, seal_width_mm=36, seal_height_mm=36)
    assert x2 == pytest.approx(350 + 170 / 3, abs=0.01)
    assert x2 - x1 == pytest.approx(36 * MM, abs=0.01)
    assert (y1 + y2) / 2 == pytest.approx((140 + 225) / 2)


def test_register_report_is_landscape_and_repeats_headers():
    columns = ["Số, ký hiệu văn bản", "Ngày tháng văn bản", "Tên loại và trích yếu nội dung", "Người ký"]
    rows = [[f"{n:02d}/QĐ-UBND", "05/11/2026", "Quyết định về việc khen thưởng", "Trần Thị Hà"] for n in range(1, 80)]
    pdf = render_table_report("Sổ đăng ký văn bản đi", columns, rows, subtitle="Năm 2026")
    width, height = _size(pdf)
    assert width > height
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    for page in reader.pages:
        assert "Tên loại và trích yếu nội dung" in page.extract_text()
    text = pdf_text(pdf)
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐI" in text and "79/QĐ-UBND" in text
