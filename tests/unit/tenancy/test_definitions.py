import re
import unicodedata
from pathlib import Path

import pytest

from app.core.errors import DomainError
from app.tenancy.definitions import load_agency_files, parse_agency, render_agency_yaml

AGENCIES = Path(__file__).resolve().parents[3] / "agencies"

# The appendix of Decision 52/2014/QĐ-UBND, in order.
APPENDIX = [
    "ibandt", "ibangpmbptqd", "ibanqlckcn", "ibanqldactmtdt", "ibanqldtxdct", "isoct", "isogddt", "isogvt",
    "isokhdt", "isokhcn", "isoldtbxh", "isongv", "isonv", "isonnptnt", "isotc", "isotnmt", "isotttt",
    "isotp", "isovhttdl", "isoxd", "isoyt", "ithanhtra", "ivpqhhd", "ivpubnd", "ivksnd", "ivinhyen",
    "iphucyen", "ibinhxuyen", "ilapthach", "isonglo", "itamduong", "itamdao", "ivinhtuong", "iyenlac",
    "itruongchinhtri",
]


def test_every_agency_of_the_appendix_has_a_file_with_its_domain():
    defs = {d.code: d for d in load_agency_files(AGENCIES)}
    assert len(APPENDIX) == 35
    for code in APPENDIX:
        assert defs[code].domain == f"{code}.vinhphuc.gov.vn"
    assert defs["qlvb"].is_central and defs["qlvb"].domain == "qlvb.vinhphuc.gov.vn"
    assert defs["isotttt"].name == "Sở Thông tin và Truyền thông"
    assert defs["ivpubnd"].name == "Văn phòng Ủy ban nhân dân tỉnh"
    assert defs["itruongchinhtri"].name == "Trường Chính trị tỉnh"


def test_files_are_nfc_and_realistic_departments_exist():
    for path in AGENCIES.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert unicodedata.is_normalized("NFC", text), path.name
    defs = {d.code: d for d in load_agency_files(AGENCIES)}
    names = lambda code: {d.name for d, _, _ in defs[code].walk_departments()}  # noqa: E731
    assert "Phòng Công nghệ thông tin" in names("isotttt")
    assert "Phòng Văn hóa - Xã hội" in names("ivpubnd")
    assert "Phòng Tài nguyên và Môi trường" in names("iyenlac")


def test_problems_are_collected_and_named():
    bad = "code: Bad Code\nname: X\ndomain: x\ndepartments:\n  - code: a\n  - name: B\n    code: a\n"
    with pytest.raises(DomainError) as exc:
        parse_agency(bad, source="bad.yaml")
    details = " | ".join(exc.value.details)
    assert "abbreviation" in details
    assert "mã cơ quan “Bad Code” không hợp lệ" in details
    assert "thiếu khóa bắt buộc “name”" in details
    assert "bị trùng" in details


def test_yaml_syntax_error_gives_line_number():
    with pytest.raises(DomainError, match="dòng 2"):
        parse_agency("code: a\n  name: [unclosed\n", source="x.yaml")


def test_round_trip_keeps_comments_and_key_order_after_an_edit():
    original = (AGENCIES / "isotttt.yaml").read_text(encoding="utf-8")
    snapshot = {
        "code": "isotttt", "name": "Sở Thông tin và Truyền thông", "short_name": "Sở TT&TT",
        "abbreviation": "STTTT", "governing_body": "UBND TỈNH VĨNH PHÚC", "domain": "isotttt.vinhphuc.gov.vn",
        "org_identifier": "000.17.00.H61", "kind": "so", "place": "Vĩnh Yên", "numbering": "per_type",
        "positions": [{"code": "truong", "name": "Giám đốc Sở", "role": "leader"}],
        "departments": [{"code": "vp", "name": "Văn phòng Sở", "abbreviation": "VP"},
                        {"code": "moi", "name": "Phòng Chuyển đổi số", "abbreviation": "CĐS"}],
    }
    out = render_agency_yaml(original, snapshot)
    assert "# Sở Thông tin và Truyền thông — STT 17" in out
    assert "# dùng trong ký hiệu văn bản" in out
    assert re.search(r"numbering: per_type +# single: một dãy số", out)
    assert "name: Văn phòng Sở" in out and "Phòng Chuyển đổi số" in out
    assert "Phòng Bưu chính" not in out
    keys = [line.split(":")[0] for line in out.splitlines() if line and not line.startswith((" ", "#", "-"))]
    assert keys[:5] == ["code", "name", "short_name", "abbreviation", "governing_body"]
    reparsed = parse_agency(out)
    assert [d.code for d in reparsed.departments] == ["vp", "moi"]
