"""The Decree 30 type table is data: 29 types, exact-case abbreviations, three copy forms."""

from __future__ import annotations

from app.documents.doctypes import type_definitions


def test_twenty_nine_types_and_three_copy_forms() -> None:
    defs = type_definitions()
    assert len([d for d in defs if not d.is_copy]) == 29
    assert {d.abbreviation for d in defs if d.is_copy} == {"SY", "TrS", "SL"}
    assert len({d.code for d in defs}) == len(defs)


def test_abbreviations_keep_their_exact_case() -> None:
    by_name = {d.name: d.abbreviation for d in type_definitions()}
    assert by_name["Quy định"] == "QyĐ"
    assert by_name["Chương trình"] == "CTr"
    assert by_name["Tờ trình"] == "TTr"
    assert by_name["Bản ghi nhớ"] == "BGN"
    assert by_name["Bản thỏa thuận"] == "BTT"
    assert by_name["Quyết định"] == "QĐ"
    assert by_name["Bản trích sao"] == "TrS"


def test_cong_van_and_thu_cong_have_no_abbreviation() -> None:
    by_name = {d.name: d.abbreviation for d in type_definitions()}
    assert by_name["Công văn"] is None
    assert by_name["Thư công"] is None
    assert "CV" not in {d.abbreviation for d in type_definitions()}
