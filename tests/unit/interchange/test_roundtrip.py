"""build → XSD validate → parse → equal, for packages and status messages of several shapes."""

from __future__ import annotations

import base64
import dataclasses
import os
import unicodedata

import pytest
from lxml import etree

from app.interchange import (
    NAMESPACE,
    STATUS_LABELS,
    AttachmentInfo,
    EnvelopeError,
    EnvelopeInfo,
    OrganInfo,
    StatusCode,
    build_envelope,
    build_status,
    parse_envelope,
    parse_status,
    validate,
)

from .samples import minimal_package, received_status

NS = "{" + NAMESPACE + "}"


def round_trip(info: EnvelopeInfo) -> EnvelopeInfo:
    data = build_envelope(info)
    assert validate(data) == "edxml"
    return parse_envelope(data)


def test_minimal_package_round_trips() -> None:
    info = minimal_package()
    assert round_trip(info) == info


def test_full_package_round_trips_every_field(package: EnvelopeInfo) -> None:
    back = round_trip(package)
    assert back == package
    assert back.attachments[0].content == package.attachments[0].content
    assert back.trace.business.replacements[0].organ_ids == ("000.00.00.G22",)


def test_many_recipients_round_trip() -> None:
    info = minimal_package()
    recipients = tuple(OrganInfo(f"000.{i % 100:02d}.{i // 100:02d}.H61", organ_name=f"Xã {i}") for i in range(300))
    info = dataclasses.replace(info, header=dataclasses.replace(info.header, recipients=recipients))
    back = round_trip(info)
    assert [r.organ_id for r in back.header.recipients] == [r.organ_id for r in recipients]


def test_several_attachments_keep_their_order_and_bytes() -> None:
    files = tuple(
        AttachmentInfo(f"tep-{i}", f"Tệp số {i}.pdf", "application/pdf", os.urandom(100 + i * 997), f"Mô tả {i}")
        for i in range(6)
    )
    info = dataclasses.replace(minimal_package(), attachments=files)
    back = round_trip(info)
    assert back.attachments == files


def test_vietnamese_text_comes_back_nfc_whatever_was_given() -> None:
    decomposed = unicodedata.normalize("NFD", "Về việc tăng cường công tác phòng, chống thiên tai")
    info = minimal_package()
    header = dataclasses.replace(
        info.header, subject=decomposed, signer=dataclasses.replace(info.header.signer, full_name="Nguyễn Thị Hằng")
    )
    back = round_trip(dataclasses.replace(info, header=header))
    assert back.header.subject == unicodedata.normalize("NFC", decomposed)
    assert unicodedata.is_normalized("NFC", back.header.subject)
    assert back.header.signer.full_name == "Nguyễn Thị Hằng"


def test_the_wire_format_keeps_the_standards_names_and_prefixes(package: EnvelopeInfo) -> None:
    data = build_envelope(package)
    text = data.decode("utf-8")
    # Bussiness with a double s, edXML: prefixes inside the envelope, unprefixed attachments outside.
    assert "<edXML:Bussiness>" in text and "<edXML:BussinessDocType>3</edXML:BussinessDocType>" in text
    assert text.count("<edXML:To>") == 2
    assert '<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">' in text
    assert "<AttachmentEncoded>" in text and 'xlink:href="cid:qd-1234"' in text
    assert "<edXML:PromulgationDate>2026/12/03</edXML:PromulgationDate>" in text
    assert "<edXML:Timestamp>2026/12/03 09:30:05</edXML:Timestamp>" in text
    assert "<edXML:DocumentId>000.06.00.H61,2026/12/03,1234/QĐ-SCT</edXML:DocumentId>" in text
    root = etree.fromstring(data)
    encoded = root.find(f"{NS}AttachmentEncoded/{NS}Attachment/{NS}ContentTransferEncoded")
    assert base64.b64decode(encoded.text) == package.attachments[0].content


def test_a_peers_order_and_line_wrapped_base64_are_accepted_but_not_by_the_strict_check() -> None:
    info = dataclasses.replace(minimal_package(), attachments=(AttachmentInfo("a", "a.pdf", "application/pdf",
                                                                              os.urandom(500)),))
    root = etree.fromstring(build_envelope(info))
    kind = root.find(f"{NS}edXMLEnvelope/{NS}edXMLHeader/{NS}MessageHeader/{NS}DocumentType")
    kind.append(kind[0])  # Type after TypeName, as some vendors write it
    attachment = root.find(f"{NS}AttachmentEncoded/{NS}Attachment")
    payload = attachment.find(f"{NS}ContentTransferEncoded")
    payload.text = base64.encodebytes(info.attachments[0].content).decode()  # MIME lines of 76
    attachment.insert(0, payload)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    assert parse_envelope(data) == info
    with pytest.raises(EnvelopeError) as caught:
        validate(data)
    assert "MessageHeader/DocumentType/Type" in caught.value.message or "không được phép" in caught.value.message


def test_an_attachment_larger_than_libxml2s_text_limit_round_trips() -> None:
    # 8 MB of file is 11 MB of base64: past libxml2's 10 MB text node limit without huge_tree.
    content = os.urandom(8 * 1024 * 1024)
    info = dataclasses.replace(minimal_package(), attachments=(AttachmentInfo("scan", "scan.pdf", "application/pdf",
                                                                              content),))
    back = parse_envelope(build_envelope(info))
    assert back.attachments[0].content == content


@pytest.mark.parametrize("code", list(StatusCode))
def test_every_status_code_round_trips(code: StatusCode) -> None:
    info = received_status(code)
    data = build_status(info)
    assert validate(data) == "status"
    assert parse_status(data) == info
    assert f"<edXML:StatusCode>{code.value}</edXML:StatusCode>" in data.decode()


def test_status_codes_have_their_vietnamese_meaning() -> None:
    assert StatusCode("01").label == "Đã đến"
    assert StatusCode("02").label == "Từ chối tiếp nhận"
    assert StatusCode("03").label.startswith("Đã tiếp nhận")
    assert StatusCode("06").label == "Hoàn thành"
    assert set(STATUS_LABELS) == set(StatusCode)
    assert [c.value for c in StatusCode][:6] == ["01", "02", "03", "04", "05", "06"]


def test_a_minimal_status_round_trips() -> None:
    info = dataclasses.replace(received_status(StatusCode.REGISTERED), staff=None, description="")
    assert parse_status(build_status(info)) == info
