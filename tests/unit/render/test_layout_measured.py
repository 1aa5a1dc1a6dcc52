"""Phụ lục I of Decree 30/2020, measured in the PDF (pdfplumber, millimetres), not only that the text is there."""

from __future__ import annotations

import dataclasses
import io

import pdfplumber
import pytest

from app.render import render_document

MM = 72 / 25.4


def _page(pdf: bytes):
    doc = pdfplumber.open(io.BytesIO(pdf))
    return doc, doc.pages[0]


def _line_of(page, first_word: str) -> list[dict]:
    """The words on the line that starts with ``first_word`` (same ``bottom``)."""
    words = page.extract_words(extra_attrs=["fontname", "size"])
    start = next(w for w in words if w["text"] == first_word)
    same = sorted((w for w in words if abs(w["bottom"] - start["bottom"]) < 0.5 and w["x0"] >= start["x0"] - 0.1),
                  key=lambda w: w["x0"])
    line = [same[0]]
    for w in same[1:]:  # stop at a column gap (the header's two columns share a baseline)
        if w["x0"] - line[-1]["x1"] > 12:
            break
        line.append(w)
    return line


def _rules(page) -> list[dict]:
    """Horizontal rules drawn as lines or as thin rectangles (WeasyPrint draws borders as filled rects)."""
    out = [{"x0": e["x0"], "x1": e["x1"], "top": e["top"]} for e in page.lines if abs(e["top"] - e["bottom"]) < 0.5]
    out += [{"x0": r["x0"], "x1": r["x1"], "top": r["top"]} for r in page.rects if r["height"] < 1.5]
    return out


def _rule_under(page, words: list[dict]) -> dict:
    bottom = max(w["bottom"] for w in words)
    below = [r for r in _rules(page) if 0 < r["top"] - bottom < 8]
    assert below, f"no rule under {' '.join(w['text'] for w in words)}"
    return min(below, key=lambda r: r["top"] - bottom)


def test_number_and_place_date_share_one_baseline(decision):
    doc, page = _page(render_document(decision))
    with doc:
        number = next(w for w in page.extract_words() if w["text"] == "Số:")
        place = next(w for w in page.extract_words() if w["text"].startswith("Vĩnh"))
    assert abs(number["bottom"] - place["bottom"]) < 0.3


def test_summary_rule_is_a_third_to_a_half_of_the_line(decision):
    short = dataclasses.replace(decision, summary="Về việc ban hành Quy chế văn thư")
    doc, page = _page(render_document(short))
    with doc:
        line = _line_of(page, "Về")
        rule = _rule_under(page, line)
    text_width = max(w["x1"] for w in line) - min(w["x0"] for w in line)
    ratio = (rule["x1"] - rule["x0"]) / text_width
    assert 1 / 3 <= ratio <= 1 / 2, ratio
    # Centred under the summary.
    assert abs((rule["x0"] + rule["x1"]) / 2 - (min(w["x0"] for w in line) + max(w["x1"] for w in line)) / 2) < 2


def test_agency_name_rule_is_a_third_to_a_half_of_its_line(decision):
    doc, page = _page(render_document(dataclasses.replace(decision, agency_name="Sở Tư pháp")))
    with doc:
        line = _line_of(page, "SỞ")
        rule = _rule_under(page, line)
    ratio = (rule["x1"] - rule["x0"]) / (max(w["x1"] for w in line) - min(w["x0"] for w in line))
    assert 1 / 3 <= ratio <= 1 / 2, ratio


@pytest.mark.parametrize(("mark", "width_mm"), [("KHẨN", 20), ("THƯỢNG KHẨN", 40), ("HỎA TỐC", 30)])
def test_urgency_box_has_the_size_of_its_word(decision, mark, width_mm):
    doc, page = _page(render_document(dataclasses.replace(decision, urgency=mark)))
    with doc:
        word = next(w for w in page.extract_words() if w["text"] == mark.split()[0])
        boxes = [r for r in page.rects if r["x0"] <= word["x0"] and r["x1"] >= word["x1"] and
                 r["top"] <= word["top"] and r["bottom"] >= word["bottom"] and r["height"] > 10]
        chars = [c for c in page.chars if c["text"] == mark[0] and abs(c["top"] - word["top"]) < 1]
    assert boxes, "no box around the urgency mark"
    # WeasyPrint paints a border as an outer and an inner filled rectangle: the stamp is the outer one.
    box = max((r for r in boxes if r["height"] < 12 * MM), key=lambda r: r["width"])
    assert box["width"] / MM == pytest.approx(width_mm, abs=0.3)
    assert box["height"] / MM == pytest.approx(8, abs=0.3)
    assert "Bold" in chars[0]["fontname"]
    assert chars[0]["non_stroking_color"] in ((0.8784, 0, 0), [0.8784, 0, 0]) or chars[0]["non_stroking_color"][1] == 0


def test_basis_is_italic_and_enacting_line_bold_and_centred(decision):
    body = ("Căn cứ Luật Tổ chức chính quyền địa phương;", "QUYẾT ĐỊNH:", "Điều 1. Ban hành quy chế.")
    doc, page = _page(render_document(dataclasses.replace(decision, body=body)))
    with doc:
        basis = _line_of(page, "Căn")
        enacting = [w for w in page.extract_words(extra_attrs=["fontname"]) if w["text"] == "ĐỊNH:"]
        article = next(w for w in page.extract_words(extra_attrs=["fontname"]) if w["text"] == "Điều")
        plain = next(w for w in page.extract_words(extra_attrs=["fontname"]) if w["text"] == "Ban"
                     and abs(w["bottom"] - article["bottom"]) < 0.5)
        width = float(page.width)
    assert all("Italic" in w["fontname"] for w in basis)
    (decides,) = enacting
    assert "Bold" in decides["fontname"]
    start = next(w for w in page.extract_words() if w["text"] == "QUYẾT" and abs(w["bottom"] - decides["bottom"]) < .5)
    centre = (start["x0"] + decides["x1"]) / 2
    text_centre = (30 + (210 - 30 - 15) / 2) * MM  # margins 30 mm left, 15 mm right
    assert abs(centre - text_centre) < 2 * MM and width > 0
    assert "Bold" in article["fontname"] and "Bold" not in plain["fontname"]


def test_cong_van_addresses_its_recipients_and_never_doubles_vv(decision):
    cong_van = dataclasses.replace(decision, type_name=None, summary="triển khai chữ ký số",
                                   addressees=("Sở Tư pháp", "Sở Tài chính"), recipients=("Như trên;", "Lưu: VT."))
    doc, page = _page(render_document(cong_van))
    with doc:
        text = page.extract_text()
        kinh_gui = next(w for w in page.extract_words() if w["text"] == "gửi:")
        summary = next(w for w in page.extract_words() if w["text"] == "V/v")
        number = next(w for w in page.extract_words() if w["text"] == "Số:")
    assert "Kính gửi: - Sở Tư pháp;" in text and "- Sở Tài chính." in text
    assert text.count("V/v") == 1
    assert summary["top"] > number["bottom"] and summary["x1"] < float(page.width) / 2  # under the number, left
    assert kinh_gui["top"] > summary["bottom"]


def test_agency_names_break_after_the_kind_of_body(decision):
    doc, page = _page(render_document(dataclasses.replace(decision, agency_name="Ủy ban nhân dân huyện Yên Lạc",
                                                          governing_body="")))
    with doc:
        words = page.extract_words()
    dan = next(w for w in words if w["text"] == "DÂN")
    huyen, lac = (next(w for w in words if w["text"] == t) for t in ("HUYỆN", "LẠC"))
    assert huyen["top"] > dan["bottom"] and abs(huyen["bottom"] - lac["bottom"]) < 0.5
