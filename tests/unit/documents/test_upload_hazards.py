"""Uploads an official could use to stall the worker or to plant active content (issue #16, item 3).

Memory is measured with tracemalloc (bytes the check allocated), never with a clock.
"""

from __future__ import annotations

import contextlib
import io
import tracemalloc
import zipfile
from collections.abc import Callable

import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from app.documents import filetypes
from app.documents.attachments import UploadInfo, check_file, safe_filename
from app.documents.errors import AttachmentRefusedError

BIG = 50 * 1024 * 1024
CT_DOCX = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
           b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
           b'wordprocessingml.document.main+xml"/></Types>')
CT_DOCM = CT_DOCX.replace(b"officedocument.wordprocessingml.document.main+xml",
                          b"ms-word.document.macroEnabled.main+xml")


def zipped(members: dict[str, bytes | Callable[[zipfile.ZipFile, str], None]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            if callable(data):
                data(zf, name)
            else:
                zf.writestr(name, data)
    return out.getvalue()


def zeros(megabytes: int, byte: bytes = b"\0") -> Callable[[zipfile.ZipFile, str], None]:
    """A member of ``megabytes`` MB written in 1 MB chunks (so the test itself stays small in memory)."""
    def write(zf: zipfile.ZipFile, name: str) -> None:
        chunk = byte * (1024 * 1024)
        with zf.open(name, "w", force_zip64=False) as member:
            for _ in range(megabytes):
                member.write(chunk)
    return write


def peak_bytes(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        with contextlib.suppress(AttachmentRefusedError):
            fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def refused(name: str, data: bytes, fragment: str) -> str:
    with pytest.raises(AttachmentRefusedError) as info:
        check_file(UploadInfo(name, data), max_bytes=BIG)
    assert fragment in info.value.message, info.value.message
    assert f"«{safe_filename(name)}»" in info.value.message
    return info.value.message


# --- ZIP bombs ---------------------------------------------------------------------------------------------------

def test_an_odt_whose_mimetype_member_inflates_to_64_mb_costs_the_worker_almost_nothing() -> None:
    bomb = zipped({"mimetype": zeros(64), "content.xml": b"<x/>"})
    assert len(bomb) < 1024 * 1024
    peak = peak_bytes(lambda: check_file(UploadInfo("bom.odt", bomb), max_bytes=BIG))
    assert peak < 8 * 1024 * 1024, f"the check allocated {peak / 1048576:.0f} MB"
    refused("bom.odt", bomb, "bom nén")


def test_a_docx_with_a_huge_document_xml_is_refused_from_the_central_directory() -> None:
    bomb = zipped({"[Content_Types].xml": CT_DOCX, "word/document.xml": zeros(40, b"a")})
    assert len(bomb) < 1024 * 1024
    peak = peak_bytes(lambda: check_file(UploadInfo("bao-cao.docx", bomb), max_bytes=BIG))
    assert peak < 8 * 1024 * 1024
    refused("bao-cao.docx", bomb, "bom nén")


def test_a_docx_with_thousands_of_parts_is_refused() -> None:
    many = {"[Content_Types].xml": CT_DOCX, "word/document.xml": b"<x/>",
            **{f"word/media/p{i}.xml": b"" for i in range(filetypes.MAX_ZIP_MEMBERS + 1)}}
    refused("nhieu-phan.docx", zipped(many), "bom nén")


def test_an_ordinary_docx_with_compressible_xml_passes() -> None:
    body = b"<w:p><w:r><w:t>Quy\xe1\xba\xbft \xc4\x91\xe1\xbb\x8bnh</w:t></w:r></w:p>" * 20000  # ~0.8 MB, ratio < 100
    docx = zipped({"[Content_Types].xml": CT_DOCX, "word/document.xml": body})
    checked = check_file(UploadInfo("quyet-dinh.docx", docx), max_bytes=BIG)
    assert checked.content_type == filetypes.DOCX and checked.filename == "quyet-dinh.docx"


# --- macros, scripts, markup --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "members"), [
    ("van-ban.docx", {"[Content_Types].xml": CT_DOCX, "word/document.xml": b"<x/>", "word/vbaProject.bin": b"VBA"}),
    ("van-ban.docx", {"[Content_Types].xml": CT_DOCM, "word/document.xml": b"<x/>"}),
    ("bang.xlsx", {"[Content_Types].xml": CT_DOCX, "xl/workbook.xml": b"<x/>", "xl/macrosheets/sheet1.xml": b"<x/>"}),
    ("van-ban.odt", {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>",
                     "Basic/Standard/Module1.xml": b"<script/>"}),
])
def test_office_files_with_macros_are_refused_whatever_their_name(name: str, members: dict[str, bytes]) -> None:
    refused(name, zipped(members), "macro")


def test_a_docm_is_refused_by_name() -> None:
    docx = zipped({"[Content_Types].xml": CT_DOCX, "word/document.xml": b"<x/>"})
    refused("to-trinh.docm", docx, "macro")


@pytest.mark.parametrize(("name", "data"), [
    ("thong-bao.vbs", b'MsgBox "Xin chao"'),
    ("cai-dat.bat", b"@echo off\r\ndel /q C:\\*"),
    ("chay.ps1", b"Invoke-WebRequest http://example.invalid"),
    ("tien-ich.js", b"alert(1)"),
    ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"),
    ("bao-cao.txt.lnk", b"L\x00\x00\x00"),
])
def test_scripts_and_programs_are_refused(name: str, data: bytes) -> None:
    refused(name, data, "không thuộc định dạng được chấp nhận")


@pytest.mark.parametrize(("name", "data"), [
    ("ghi-chu.txt", b"#!/bin/sh\nrm -rf ~\n"),
    ("lenh.txt", b"@ECHO OFF\r\nformat c:\r\n"),
])
def test_scripts_disguised_as_text_are_refused(name: str, data: bytes) -> None:
    refused(name, data, "tập lệnh")


@pytest.mark.parametrize(("name", "data"), [
    ("trang.html", b"<p>Xin chao</p>"),
    ("anh.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("ghi-chu.txt", b"\xef\xbb\xbf<!DOCTYPE html><html><body><script>alert(1)</script>"),
    ("anh.txt", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
])
def test_html_and_svg_are_refused(name: str, data: bytes) -> None:
    refused(name, data, "HTML) hoặc ảnh SVG")


# --- names --------------------------------------------------------------------------------------------------------

def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="JPEG")
    return out.getvalue()


def test_the_stored_extension_is_the_detected_types() -> None:
    assert check_file(UploadInfo("anh-chup.png", _jpeg()), max_bytes=BIG).filename == "anh-chup.jpg"
    assert check_file(UploadInfo("anh.JPEG", _jpeg()), max_bytes=BIG).filename == "anh.JPEG"
    assert check_file(UploadInfo("ghi-chu.md", b"# Ghi ch\xc3\xba"), max_bytes=BIG).filename == "ghi-chu.md.txt"
    assert check_file(UploadInfo("Quyết định 12.2026", b"text"), max_bytes=BIG).filename == "Quyết định 12.2026.txt"
    docx = zipped({"[Content_Types].xml": CT_DOCX, "word/document.xml": b"<x/>"})
    assert check_file(UploadInfo("bang-tinh.xlsx", docx), max_bytes=BIG).filename == "bang-tinh.docx"


def test_bidirectional_controls_are_stripped_from_names() -> None:
    # "hoa-don\u202egpj.exe" shows as "hoa-donexe.jpg" in a right-to-left-aware file list.
    assert safe_filename("hoa-don\u202egpj.exe") == "hoa-dongpj.exe"
    assert safe_filename("\u2067bao-cao\u2069\u200f.pdf") == "bao-cao.pdf"
    refused("hoa-don\u202egpj.exe", b"MZ\x90\x00", "chương trình")


# --- PDFs ---------------------------------------------------------------------------------------------------------

def blank_pdf(pages: int = 1, *, javascript: str | None = None, open_action: bool = False) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(200, 200)
    if javascript is not None:  # a document-level script in the /Names tree, run when the file opens
        script = writer._add_object(DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                                      NameObject("/JS"): TextStringObject(javascript)}))
        tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("qlvb"), script])})
        writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): tree})
    if open_action:
        action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                   NameObject("/JS"): TextStringObject("app.alert(1)")})
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF from hand-written objects (1-based), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_a_pdf_over_the_page_limit_is_refused() -> None:
    refused("ho-so.pdf", blank_pdf(filetypes.MAX_PDF_PAGES + 1), "vượt giới hạn")


def test_a_pdf_that_declares_sixty_thousand_pages_is_refused_before_its_tree_is_walked() -> None:
    pdf = raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 60000 /Kids [3 0 R] >>",
                   b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"])
    refused("ho-so.pdf", pdf, "60000 trang")


def test_a_small_pdf_whose_page_tree_repeats_one_page_thousands_of_times_is_refused() -> None:
    kids = b" ".join([b"3 0 R"] * 5000)
    pdf = raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 1 /Kids [%s] >>" % kids,
                   b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"])
    assert len(pdf) < 40_000
    refused("lap-trang.pdf", pdf, "quá")


def test_active_pdfs_are_marked_and_passive_ones_are_not() -> None:
    assert check_file(UploadInfo("a.pdf", blank_pdf(2)), max_bytes=BIG).active is False
    assert check_file(UploadInfo("b.pdf", blank_pdf(javascript="app.alert(1)")), max_bytes=BIG).active is True
    assert check_file(UploadInfo("c.pdf", blank_pdf(open_action=True)), max_bytes=BIG).active is True
    # Names hidden with #xx escapes are found too.
    escaped = raw_pdf([b"<< /Type /Catalog /Pages 2 0 R /Op#65nAction 4 0 R >>",
                       b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
                       b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
                       b"<< /S /J#61vaScript /JS (app.alert(1)) >>"])
    assert filetypes.pdf_is_active(escaped) is True
    assert filetypes.pdf_is_active(blank_pdf()) is False
