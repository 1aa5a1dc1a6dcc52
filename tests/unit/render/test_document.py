from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pdfplumber
import pytest
from pypdf import PdfReader

from app.render import format_place_date, render_document, render_document_layout
from tests.unit.render.conftest import VIETNAMESE_SAMPLE, pdf_fonts, pdf_text

A4_PT = (595.28, 841.89)


def test_decree30_text_round_trips_in_nfc(decision):
    text = pdf_text(render_document(decision))

    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert VIETNAMESE_SAMPLE in " ".join(text.split())
    assert "ữựỹỵỷẫậẩầấ" in text
    assert "Vĩnh Yên, ngày 05 tháng 11 năm 2026" in text
    assert "Số: 15/QĐ-STTTT" in text
    assert "QUYẾT ĐỊNH" in text
    assert "SỞ THÔNG TIN VÀ TRUYỀN THÔNG" in " ".join(text.split())
    assert "KT. GIÁM ĐỐC" in text and "PHÓ GIÁM ĐỐC" in text
    assert "Nơi nhận:" in text


def test_page_is_a4_and_font_is_embedded_liberation_serif(decision, tmp_path):
    pdf = render_document(decision)
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert float(page.mediabox.width) == pytest.approx(A4_PT[0], abs=0.01)
    assert float(page.mediabox.height) == pytest.approx(A4_PT[1], abs=0.01)

    fonts = pdf_fonts(pdf, tmp_path)
    lines = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert lines, fonts
    for line in lines:
        assert "Liberation-Serif" in line.split()[0]
        assert line.split()[-5:-3] == ["yes", "yes"]  # embedded, subset
    assert any("Bold-Italic" in line for line in lines)  # "Nơi nhận:"


def test_cong_van_puts_summary_under_number(decision):
    cong_van = dataclasses.replace(
        decision,
        type_name=None,
        number_notation="12/STTTT-VP",
        summary="triển khai chữ ký số",
        addressees=("Các sở, ban, ngành tỉnh",),
    )
    text = pdf_text(render_document(cong_van))
    assert "V/v triển khai chữ ký số" in text
    assert "Kính gửi:" in text
    assert "QUYẾT ĐỊNH" not in text


def test_page_numbers_start_on_page_two(decision):
    long = dataclasses.replace(decision, body=decision.body * 20)
    result = render_document_layout(long)
    with pdfplumber.open(io.BytesIO(result.pdf)) as pdf:
        assert result.page_count == len(pdf.pages) >= 2
        first, second = (min(pdf.pages[i].extract_words(), key=lambda w: w["top"]) for i in (0, 1))
        page_width = float(pdf.pages[1].width)
    assert second["text"] == "2"
    assert second["top"] < 20 * 72 / 25.4  # in the top margin
    assert abs((second["x0"] + second["x1"]) / 2 - (30 + (210 - 30 - 15) / 2) * 72 / 25.4) < 2  # centred
    assert page_width == pytest.approx(A4_PT[0], abs=0.01)
    assert first["text"] != "1"


def test_signature_box_lies_between_position_and_name(decision):
    result = render_document_layout(decision)
    box = result.signature_box
    assert box is not None and box.page == result.page_count - 1
    assert box.width > 150 and box.height > 80  # 60 x 30 mm
    assert box.x1 > A4_PT[0] / 2  # signer column is the right half


def test_place_date_zero_pads_day_and_first_two_months():
    assert format_place_date("Vĩnh Yên", dt.date(2026, 1, 5)) == "Vĩnh Yên, ngày 05 tháng 01 năm 2026"
    assert format_place_date("Vĩnh Yên", dt.date(2026, 3, 15)) == "Vĩnh Yên, ngày 15 tháng 3 năm 2026"


def test_agency_template_override_is_used(decision):
    template = "<p>{{ doc.agency_name | upper }} – {{ place_date }}</p>"
    text = " ".join(pdf_text(render_document(decision, template_source=template)).split())
    assert "SỞ THÔNG TIN VÀ TRUYỀN THÔNG – Vĩnh Yên, ngày 05 tháng 11 năm 2026" in text
