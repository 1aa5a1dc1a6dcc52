"""Appendix signatures sit top right of the first page as the file really is (Phụ lục I II.8.b), not of an A4."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from app.documents.signatures import APPENDIX_STAMP_MM, appendix_stamp
from app.render import render_pdf

MM = 72 / 25.4


@pytest.mark.parametrize(("size", "expected"), [("A4", (210, 297)), ("A3 landscape", (420, 297)),
                                                ("A5", (148, 210))])
def test_the_stamp_is_top_right_of_the_first_page(size: str, expected: tuple[int, int]) -> None:
    pdf = render_pdf(f"<style>@page {{ size: {size}; margin: 20mm }}</style><p>Phụ lục I</p>")
    page = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert (round(float(page.width) / MM), round(float(page.height) / MM)) == expected
    appearance, (x1, y1, x2, y2) = appendix_stamp(pdf, number_notation="15/QĐ-STTTT",
                                                  signed_at="2026-12-03T09:15:00+07:00")
    assert appearance.startswith(b"%PDF")
    assert round((x2 - x1) / MM) == APPENDIX_STAMP_MM[0] and round((y2 - y1) / MM) == APPENDIX_STAMP_MM[1]
    assert round((float(page.right) - x2) / MM) == 15 and round((float(page.top) - y2) / MM) == 10
