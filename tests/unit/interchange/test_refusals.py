"""Every refusal: one typed error, a Vietnamese message naming the field, a log line, and a status 02 answer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

import pytest

from app.core.errors import DomainError, ValidationError
from app.interchange import (
    AttachmentInfo,
    CodeInfo,
    EnvelopeError,
    EnvelopeTooLargeError,
    OrganInfo,
    ResponseForInfo,
    StatusCode,
    StatusInfo,
    build_envelope,
    build_status,
    parse_envelope,
    parse_status,
    rejection_status,
    validate,
)

from .samples import DAY, DOCUMENT_ID, SENDER, VPCP, full_package, minimal_package, received_status

RECEIVER = OrganInfo("000.00.00.G22", organ_name="Văn phòng Chính phủ")
CTE = "AttachmentEncoded/Attachment[1]/ContentTransferEncoded"


def id_line(value: str) -> bytes:
    """The header's own DocumentId (the last child of MessageHeader), not the one inside Bussiness."""
    return f"<edXML:DocumentId>{value}</edXML:DocumentId>\n      </edXML:MessageHeader>".encode()


@pytest.fixture
def data() -> bytes:
    return build_envelope(full_package())


def refused(data: bytes, **kwargs: object) -> EnvelopeError:
    with pytest.raises(EnvelopeError) as caught:
        parse_envelope(data, **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_the_error_is_a_422_domain_error_with_the_field() -> None:
    error = refused(b"<edXML/>")
    assert isinstance(error, ValidationError) and isinstance(error, DomainError)
    assert error.http_status == 422 and error.code == "edxml_invalid"
    assert error.message.startswith("Gói tin edXML không hợp lệ")


def test_doctype_and_entity_bombs_are_refused_before_anything_expands() -> None:
    lol = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i else b"&lol;" * 10)
                   for i in range(1, 10))
        + b']><edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&lol9;</edXML>'
    )
    assert "DOCTYPE" in refused(lol).message
    external = (b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd">'
                b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"/>')
    assert "DOCTYPE" in refused(external).message
    # A DOCTYPE pushed past the quick scan by a long comment is still caught after parsing.
    late = (b'<?xml version="1.0"?><!--' + b"x" * 70_000 + b'--><!DOCTYPE edXML>'
            b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"/>')
    assert "DOCTYPE" in refused(late).message


def test_undeclared_entities_and_broken_xml_are_refused() -> None:
    assert "XML hợp lệ" in refused(b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&xxe;</edXML>').message
    assert "XML hợp lệ" in refused(b"<edXML><unclosed></edXML>").message
    assert "rỗng" in refused(b"   \n").message
    assert "UTF-8" in refused("<edXML/>".encode("utf-16")).message
    assert "UTF-8" in refused(b'<?xml version="1.0" encoding="ISO-8859-1"?><edXML/>').message
    assert "byte" in refused("<edXML/>").message  # type: ignore[arg-type]


def test_too_deep_nesting_is_refused(data: bytes) -> None:
    deep = data.replace(b"<edXML:Subject>", b"<edXML:Subject>" + b"<a>" * 5000 + b"</a>" * 5000, 1)
    error = refused(deep)
    assert error.message.startswith("Gói tin edXML không hợp lệ")


def test_oversize_is_refused_before_parsing(data: bytes) -> None:
    with pytest.raises(EnvelopeTooLargeError) as caught:
        parse_envelope(data, max_bytes=1000)
    assert caught.value.http_status == 413
    assert "vượt giới hạn" in caught.value.message
    assert parse_envelope(data, max_bytes=len(data)).header.document_id == "000.06.00.H61,2026/12/03,1234/QĐ-SCT"


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        (b"<edXML:OrganId>000.00.00.G22</edXML:OrganId>", b"<edXML:OrganId>H61.00.00.000</edXML:OrganId>",
         "MessageHeader/To[1]/OrganId", "QĐ 20/2020"),
        (b"<edXML:OrganId>000.06.00.H61</edXML:OrganId>", b"<edXML:OrganId>000.6.00.H61</edXML:OrganId>",
         "MessageHeader/From/OrganId", "mã định danh"),
        (b"<edXML:PromulgationDate>2026/12/03</edXML:PromulgationDate>",
         b"<edXML:PromulgationDate>2026/02/30</edXML:PromulgationDate>",
         "MessageHeader/PromulgationInfo/PromulgationDate", "ngày có thật"),
        (b"<edXML:PromulgationDate>2026/12/03</edXML:PromulgationDate>",
         b"<edXML:PromulgationDate>03/12/2026</edXML:PromulgationDate>",
         "MessageHeader/PromulgationInfo/PromulgationDate", "YYYY/MM/DD"),
        (b"<edXML:DueDate>2026/12/15</edXML:DueDate>", b"<edXML:DueDate>2026/13/15</edXML:DueDate>",
         "MessageHeader/DueDate", "ngày có thật"),
        (b"<edXML:Timestamp>2026/12/03 09:30:05</edXML:Timestamp>",
         b"<edXML:Timestamp>2026/12/03 25:30:05</edXML:Timestamp>",
         "TraceHeaderList/TraceHeader[1]/Timestamp", "thời điểm"),
        (b"<edXML:CodeNumber>1234</edXML:CodeNumber>", b"<edXML:CodeNumber>12 34</edXML:CodeNumber>",
         "MessageHeader/Code/CodeNumber", "số văn bản"),
        (b"<edXML:Type>1</edXML:Type>", "<edXML:Type>một</edXML:Type>".encode(), "MessageHeader/DocumentType/Type",
         "«một»"),
        (b"<edXML:BussinessDocType>3</edXML:BussinessDocType>", b"<edXML:BussinessDocType>7</edXML:BussinessDocType>",
         "TraceHeaderList/Bussiness/BussinessDocType", "khoảng giá trị"),
        (id_line("000.06.00.H61,2026/12/03,1234/QĐ-SCT"), id_line("1234/QĐ-SCT"),
         "MessageHeader/DocumentId", "000.00.00.H61,2026/12/03,15/QĐ-UBND"),
        (id_line("000.06.00.H61,2026/12/03,1234/QĐ-SCT"), id_line("000.07.00.H61,2026/12/03,1234/QĐ-SCT"),
         "MessageHeader/DocumentId", "cơ quan gửi (000.06.00.H61)"),
        (b"<edXML:Subject>", b"<edXML:Subject>" + "Dài ".encode() * 200, "MessageHeader/Subject", "độ dài"),
        (b"<edXML:Subject>", b"<edXML:Ghost>x</edXML:Ghost><edXML:Subject>", "MessageHeader/Ghost", "QCVN 102:2016"),
        (b"<edXML:Subject>", "<edXML:Subject>một</edXML:Subject><edXML:Subject>".encode(), "MessageHeader/Subject[2]",
         "bị lặp"),
        (b'xlink:href="cid:qd-1234"', b'xlink:href="cid:khac"', "edXMLBody/edXMLManifest/Reference[1]/@href",
         "cid:qd-1234"),
        (b'xlink:href="cid:qd-1234" ', b"", "edXMLBody/edXMLManifest/Reference[1]/@href", "bị thiếu"),
        (b"<ContentId>qd-1234</ContentId>", b"<ContentId>la</ContentId>", "AttachmentEncoded/Attachment[1]/ContentId",
         "danh mục"),
        (b"<ContentType>application/pdf</ContentType>", b"<ContentType>PDF</ContentType>",
         "AttachmentEncoded/Attachment[1]/ContentType", "MIME"),
        (b"<ContentTransferEncoded>", b"<ContentTransferEncoded>!!", CTE, "base64"),
        ("<AttachmentName>1234-QĐ-SCT.pdf</AttachmentName>".encode(),
         b"<AttachmentName>../../etc/passwd</AttachmentName>", "AttachmentEncoded/Attachment[1]/AttachmentName",
         "đường dẫn"),
        (b'<edXML:TraceHeaderList id="TraceHeaderList"', b'<edXML:TraceHeaderList onload="x"',
         "TraceHeaderList/@onload", "không được phép"),
    ],
)
def test_each_bad_field_is_named(data: bytes, old: bytes, new: bytes, field: str, words: str) -> None:
    assert old in data, old
    error = refused(data.replace(old, new, 1))
    assert error.field == field, error.message
    assert field in error.message and words in error.message
    assert error.field_errors == {field: [error.reason]}


@pytest.mark.parametrize(
    ("element", "field"),
    [
        ("<edXML:Subject>Về việc ban hành Quy chế quản lý văn bản điện tử</edXML:Subject>".encode(),
         "MessageHeader/Subject"),
        ("<edXML:CodeNotation>QĐ-SCT</edXML:CodeNotation>".encode(), "MessageHeader/Code/CodeNotation"),
        ("<edXML:FullName>Nguyễn Văn An</edXML:FullName>".encode(), "MessageHeader/SignerInfo/FullName"),
        (id_line("000.06.00.H61,2026/12/03,1234/QĐ-SCT"), "MessageHeader/DocumentId"),
    ],
)
def test_a_missing_required_field_is_named(data: bytes, element: bytes, field: str) -> None:
    assert element in data
    stripped = data.replace(element, element[-len(b"</edXML:MessageHeader>"):] if b"MessageHeader>" in element
                            else b"", 1)
    error = refused(stripped)
    assert error.field == field and "bị thiếu" in error.message


def test_a_package_without_any_recipient_or_sender_is_refused(data: bytes) -> None:
    start, end = data.index(b"<edXML:From>"), data.index(b"</edXML:From>") + len(b"</edXML:From>")
    assert refused(data[:start] + data[end:]).field == "MessageHeader/From"


def test_wrong_root_and_wrong_namespace_are_refused(data: bytes) -> None:
    assert "phần tử gốc «Envelope" in refused(b'<Envelope xmlns="urn:x"/>').message
    wrong_ns = data.replace(b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">', b'<edXML xmlns="urn:other">')
    assert "không gian tên" in refused(wrong_ns).message
    status = build_status(received_status())
    assert "phần tử gốc" in refused(status).message
    with pytest.raises(EnvelopeError, match="thông báo trạng thái"):
        parse_status(data)


def test_a_package_for_another_agency_is_refused(data: bytes) -> None:
    assert parse_envelope(data, recipient="000.01.00.H61").header.document_id
    error = refused(data, recipient="000.09.00.H61")
    assert error.field == "MessageHeader/To" and "000.09.00.H61" in error.message


def test_a_listed_file_that_is_not_carried_is_refused() -> None:
    info = dataclasses.replace(minimal_package(), attachments=(AttachmentInfo("a", "a.pdf", "application/pdf", b"x"),))
    data = build_envelope(info)
    start, end = data.index(b"<AttachmentEncoded>"), data.index(b"</AttachmentEncoded>") + len(b"</AttachmentEncoded>")
    error = refused(data[:start] + data[end:])
    assert error.field == "edXMLBody/edXMLManifest/Reference/ContentId" and "không kèm" in error.message


def test_refusals_are_logged_for_the_admin(data: bytes, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="qlvb.interchange"):
        refused(data.replace(b"<edXML:CodeNumber>1234<", b"<edXML:CodeNumber>12-34<"))
    assert any("edXML refused: MessageHeader/Code/CodeNumber" in r.getMessage() and "12-34" in r.getMessage()
               for r in caplog.records)


# -------------------------------------------------------------------------------------------------- building


def test_the_builder_refuses_what_the_parser_would() -> None:
    base = minimal_package()
    header = base.header

    def build(**changes: object) -> EnvelopeError:
        with pytest.raises(EnvelopeError) as caught:
            build_envelope(dataclasses.replace(base, header=dataclasses.replace(header, **changes)))
        return caught.value

    assert build(sender=OrganInfo("H61")).field == "MessageHeader/From/OrganId"
    assert build(recipients=()).field == "MessageHeader/To"
    assert "bị lặp" in build(recipients=(VPCP, VPCP)).message
    assert build(document_id="000.01.00.H61,2026/12/03,15/QĐ-SCT").field == "MessageHeader/DocumentId"
    assert build(subject="  ").field == "MessageHeader/Subject"
    assert "ký tự điều khiển" in build(subject="Trích yếu\x00").message
    assert build(code=CodeInfo("15", "Q Đ")).field == "MessageHeader/Code/CodeNotation"
    with pytest.raises(EnvelopeError, match="rỗng"):
        build_envelope(dataclasses.replace(base, attachments=(AttachmentInfo("a", "a.pdf", "application/pdf", b""),)))
    twice = (AttachmentInfo("a", "a.pdf", "application/pdf", b"1"), AttachmentInfo("a", "b.pdf", "text/plain", b"2"))
    with pytest.raises(EnvelopeError, match="bị lặp"):
        build_envelope(dataclasses.replace(base, attachments=twice))
    path = (AttachmentInfo("a", "C:\\x.pdf", "application/pdf", b"1"),)
    with pytest.raises(EnvelopeError, match="đường dẫn"):
        build_envelope(dataclasses.replace(base, attachments=path))


# ------------------------------------------------------------------------------------------- status messages


def test_status_refusals() -> None:
    good = received_status()
    with pytest.raises(EnvelopeError, match="bị thiếu"):
        build_status(dataclasses.replace(good, response_for=ResponseForInfo(SENDER.organ_id)))
    data = build_status(good)
    with pytest.raises(EnvelopeError) as caught:
        parse_status(data.replace(b"<edXML:StatusCode>01<", b"<edXML:StatusCode>07<"))
    assert caught.value.field == "Status/StatusCode" and "01–06" in caught.value.message
    with pytest.raises(EnvelopeError) as caught:
        parse_status(data, recipient="000.01.00.H61")
    assert caught.value.field == "Status/ResponseFor/OrganId"
    assert parse_status(data, recipient=SENDER.organ_id) == good
    with pytest.raises(EnvelopeError, match="thời điểm"):
        parse_status(data.replace(b"2026/12/03 10:00:00", b"2026/12/03T10:00:00"))
    with pytest.raises(EnvelopeTooLargeError):
        parse_status(data + b" " * (1024 * 1024))
    without_id = data.replace(f"<edXML:DocumentId>{DOCUMENT_ID}</edXML:DocumentId>".encode(), b"")
    with pytest.raises(EnvelopeError, match="trừ 02"):
        parse_status(without_id)
    assert parse_status(without_id.replace(b">01<", b">02<")).code == StatusCode.REJECTED


def test_validate_checks_either_kind_and_refuses_others(data: bytes) -> None:
    assert validate(data) == "edxml"
    assert validate(build_status(received_status())) == "status"
    with pytest.raises(EnvelopeError, match="phần tử gốc"):
        validate(b"<x/>")
    with pytest.raises(EnvelopeError, match="base64"):
        validate(data.replace(b"<ContentTransferEncoded>", b"<ContentTransferEncoded>*", 1))


# ----------------------------------------------------------------------------------------- status 02 answers


def test_a_refused_package_gets_a_status_02_rejection_naming_what_was_sent(data: bytes) -> None:
    broken = data.replace(b"<edXML:PromulgationDate>2026/12/03<", b"<edXML:PromulgationDate>2026/12/32<")
    error = refused(broken)
    at = dt.datetime(2026, 12, 3, 3, 15, tzinfo=dt.UTC)
    status = rejection_status(error, broken, receiver=RECEIVER, at=at)
    assert status is not None
    assert status.code == StatusCode.REJECTED and status.sender == RECEIVER
    assert status.timestamp == dt.datetime(2026, 12, 3, 10, 15)  # Vietnam time, as the axis writes it
    assert status.response_for == ResponseForInfo(
        "000.06.00.H61", "1234/QĐ-SCT", None, "000.06.00.H61,2026/12/03,1234/QĐ-SCT"
    )
    assert status.description.startswith("Từ chối tiếp nhận: Gói tin edXML không hợp lệ: ngày ban hành")
    wire = build_status(status)
    assert validate(wire) == "status"
    assert parse_status(wire, recipient="000.06.00.H61") == status


def test_a_rejection_keeps_only_the_well_formed_identifiers(data: bytes) -> None:
    broken = data.replace("000.06.00.H61,2026/12/03,1234/QĐ-SCT".encode(),
                          b"not-an-id")
    status = rejection_status(refused(broken), broken, receiver=RECEIVER, at=dt.datetime(2026, 12, 3, 10, 0))
    assert status is not None and status.response_for.document_id == ""
    assert status.response_for.promulgation_date == DAY
    assert parse_status(build_status(status)).response_for.organ_id == SENDER.organ_id


def test_no_rejection_when_the_sender_cannot_be_read() -> None:
    for junk in (b"\x00garbage", b"<edXML/>", b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"/>'):
        with pytest.raises(EnvelopeError) as caught:
            parse_envelope(junk)
        assert rejection_status(caught.value, junk, receiver=RECEIVER, at=dt.datetime(2026, 12, 3)) is None


def test_a_valid_status_from_the_sample_has_the_documented_description() -> None:
    status = StatusInfo(
        response_for=ResponseForInfo(SENDER.organ_id, "15/QĐ-SCT", DAY, DOCUMENT_ID),
        sender=VPCP, code=StatusCode.ARRIVED, timestamp=dt.datetime(2026, 12, 3, 8, 0),
        description="Văn thư - Phòng Văn thư - Lưu trữ: Đã đến - Phần mềm QLVB đã nhận nhưng văn thư chưa xử lý",
    )
    assert parse_status(build_status(status)).description == status.description


def test_an_oversized_or_half_broken_package_still_gets_its_rejection(data: bytes) -> None:
    with pytest.raises(EnvelopeTooLargeError) as caught:
        parse_envelope(data, max_bytes=2000)
    status = rejection_status(caught.value, data, receiver=RECEIVER, at=dt.datetime(2026, 12, 3, 10, 0))
    assert status is not None and status.response_for.document_id == "000.06.00.H61,2026/12/03,1234/QĐ-SCT"
    assert "vượt giới hạn" in status.description
    truncated = data[: data.index(b"<AttachmentEncoded>") + 40]
    status = rejection_status(refused(truncated), truncated, receiver=RECEIVER, at=dt.datetime(2026, 12, 3, 10, 0))
    assert status is not None and status.response_for.code == "1234/QĐ-SCT"
    assert status.response_for.promulgation_date == DAY
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + data[data.index(b"<edXML "):]
    assert rejection_status(refused(bomb), bomb, receiver=RECEIVER, at=dt.datetime(2026, 12, 3)) is None
