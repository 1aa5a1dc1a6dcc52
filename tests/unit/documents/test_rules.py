"""Pure rules: notation format, Art 7 refusals (and their false positives), file type by content."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.documents.attachments import UploadInfo, check_file, safe_filename
from app.documents.errors import AttachmentRefusedError, DocumentRefusedError
from app.documents.numbering import format_number, number_notation, outgoing_notation
from app.documents.refusals import check_admissible


def test_notation_keeps_case_and_pads_numbers_below_ten() -> None:
    assert number_notation(5, outgoing_notation(type_abbreviation="QĐ", agency_abbreviation="STTTT",
                                                unit_abbreviation="VP")) == "05/QĐ-STTTT"
    assert number_notation(15, outgoing_notation(type_abbreviation="QyĐ", agency_abbreviation="UBND",
                                                 unit_abbreviation=None)) == "15/QyĐ-UBND"
    assert number_notation(12, outgoing_notation(type_abbreviation=None, agency_abbreviation="UBND",
                                                 unit_abbreviation="VX")) == "12/UBND-VX"
    assert [format_number(n) for n in (1, 9, 10, 123)] == ["01", "09", "10", "123"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"confidentiality": "mat"}, "classified"),
        ({"summary": "Tài liệu phục vụ họp. Độ mật: Tuyệt mật"}, "classified"),
        ({"summary": "ĐƠN TỐ CÁO hành vi nhận hối lộ"}, "denunciation"),
        ({"summary": "Tố cáo cán bộ xã"}, "denunciation"),
        ({"summary": "V/v chuyển đơn thư tố cáo của công dân"}, "denunciation"),
        ({"type_name": "Đơn tố cáo"}, "denunciation"),
        ({"kind": "dac_biet"}, "special"),
    ],
)
def test_art7_refusals(data, reason) -> None:
    with pytest.raises(DocumentRefusedError) as info:
        check_admissible(data)
    assert info.value.reason == reason
    assert "(Điều 7 khoản 1, Quyết định 52/2014/QĐ-UBND)" in info.value.message


@pytest.mark.parametrize(
    "summary",
    [
        "Báo cáo kết quả công tác quý III",
        "Báo cáo công tác giải quyết khiếu nại, tố cáo năm 2026",
        "Quyết định giải quyết tố cáo đối với ông A",
        "Kế hoạch bảo vệ bí mật nhà nước năm 2027",
        "Về việc quản lý tài liệu mật của cơ quan",
        "Thành lập tổ công tác cải cách hành chính",
    ],
)
def test_ordinary_documents_are_admitted(summary) -> None:
    check_admissible({"summary": summary, "confidentiality": "thuong"})


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG")
    return out.getvalue()


def test_type_is_decided_by_content() -> None:
    big = 10 * 1024 * 1024
    assert check_file(UploadInfo("a.txt", "Xin chào Vĩnh Phúc".encode()), max_bytes=big).content_type == "text/plain"
    assert check_file(UploadInfo("anh", _png()), max_bytes=big).content_type == "image/png"
    with pytest.raises(AttachmentRefusedError, match="không phải PDF"):
        check_file(UploadInfo("anh.pdf", _png()), max_bytes=big)
    with pytest.raises(AttachmentRefusedError, match="rỗng"):
        check_file(UploadInfo("x.pdf", b""), max_bytes=big)


def test_office_files_are_recognised_by_their_inner_structure() -> None:
    import zipfile

    def zipped(members: dict[str, bytes]) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        return out.getvalue()

    big = 10 * 1024 * 1024
    docx = zipped({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<x/>"})
    xlsx = zipped({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"})
    odt = zipped({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})
    assert check_file(UploadInfo("a.docx", docx), max_bytes=big).content_type.endswith("wordprocessingml.document")
    assert check_file(UploadInfo("a.xlsx", xlsx), max_bytes=big).content_type.endswith("spreadsheetml.sheet")
    assert check_file(UploadInfo("a.odt", odt), max_bytes=big).content_type == "application/vnd.oasis.opendocument.text"
    with pytest.raises(AttachmentRefusedError, match="không thuộc định dạng"):
        check_file(UploadInfo("a.zip", zipped({"a.exe": b"MZ"})), max_bytes=big)


def test_filenames_lose_paths_and_control_characters() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\vt\\Quyết định\x00.pdf") == "Quyết định.pdf"
    assert safe_filename("...") == "tep_dinh_kem"
