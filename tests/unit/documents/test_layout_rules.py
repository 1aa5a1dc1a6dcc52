"""Who signs how (Điều 13 and Phụ lục I of Decree 30/2020): the authority line, "Kính gửi", full names."""

from __future__ import annotations

import pytest

from app.documents.layout import full_name, signer_lines, split_recipients


@pytest.mark.parametrize(("position", "head", "kind", "authority", "title"), [
    ("Giám đốc", "Giám đốc", "so", (), "GIÁM ĐỐC"),
    ("Phó Giám đốc", "Giám đốc", "so", ("KT. GIÁM ĐỐC",), "PHÓ GIÁM ĐỐC"),
    ("Quyền Giám đốc", "Giám đốc", "so", (), "Q. GIÁM ĐỐC"),
    ("Chánh Văn phòng", "Giám đốc", "so", ("TL. GIÁM ĐỐC",), "CHÁNH VĂN PHÒNG"),
    ("Chủ tịch", "Chủ tịch", "district", ("TM. ỦY BAN NHÂN DÂN",), "CHỦ TỊCH"),
    ("Phó Chủ tịch", "Chủ tịch", "district", ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH"), "PHÓ CHỦ TỊCH"),
    ("Chánh Văn phòng", "Chủ tịch", "district", ("TL. CHỦ TỊCH",), "CHÁNH VĂN PHÒNG"),
    ("TUQ. Giám đốc / Trưởng phòng Nội chính", "Giám đốc", "so", ("TUQ. GIÁM ĐỐC",), "TRƯỞNG PHÒNG NỘI CHÍNH"),
    ("Trưởng ban", "Trưởng ban", "ban", (), "TRƯỞNG BAN"),
])
def test_authority_line_follows_the_signer_and_the_agency(position, head, kind, authority, title):
    lines = signer_lines(position=position, head_title=head, agency_kind=kind)
    assert (lines.authority, lines.position) == (authority, title)


def test_cong_van_addresses_the_recipients_and_keeps_copies_in_noi_nhan():
    addressed, rest = split_recipients(["Sở Tư pháp;", "Sở Tài chính;", "UBND tỉnh (b/c);", "Lưu: VT, CNTT."],
                                       is_cong_van=True)
    assert addressed == ("Sở Tư pháp", "Sở Tài chính")
    assert rest == ("Như trên;", "UBND tỉnh (b/c);", "Lưu: VT, CNTT.")
    # Other types address nobody: "Nơi nhận" keeps every line.
    assert split_recipients(["Như Điều 3;", "Lưu: VT."], is_cong_van=False) == ((), ("Như Điều 3;", "Lưu: VT."))


def test_header_names_are_spelled_out():
    assert full_name("UBND huyện Yên Lạc") == "Ủy ban nhân dân huyện Yên Lạc"
    assert full_name("Văn phòng Đoàn ĐBQH và HĐND tỉnh") == \
        "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh"
    assert full_name("UBND TP Vĩnh Yên") == "Ủy ban nhân dân thành phố Vĩnh Yên"
