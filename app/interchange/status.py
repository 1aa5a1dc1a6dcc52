"""Status (feedback) messages: build_status / parse_status, and the status 02 rejection of a refused package."""

from __future__ import annotations

import datetime as dt
import logging

from lxml import etree

from . import parts
from .errors import EnvelopeError
from .fields import (
    DOCUMENT_ID,
    ORGAN_ID,
    check_document_id,
    check_organ_id,
    format_timestamp,
    local_naive,
    parse_date,
    parse_timestamp,
    refuse,
)
from .model import NAMESPACE, OrganInfo, ResponseForInfo, StaffInfo, StatusCode, StatusInfo
from .xmlio import NS, canonical_order, check_schema, read_xml, read_xml_prefix

logger = logging.getLogger("qlvb.interchange")

# A status message carries no files: a small cap is enough and keeps floods cheap.
STATUS_MAX_BYTES = 1024 * 1024
DESCRIPTION_LIMIT = 2000


def build_status(info: StatusInfo) -> bytes:
    """The status message as UTF-8 bytes; refuses (EnvelopeError) what parse_status would refuse."""
    _check_status(info)
    envelope = etree.Element(NS + "edXMLEnvelope", nsmap={"edXML": NAMESPACE})
    head = etree.SubElement(envelope, NS + "edXMLHeader")
    status = etree.SubElement(head, NS + "Status")
    parts.write_response_for(status, info.response_for, "Status/ResponseFor")
    parts.write_organ(status, "From", info.sender, "Status/From")
    parts.sub(status, "StatusCode", StatusCode(info.code).value, "Status")
    parts.sub_optional(status, "Description", info.description, "Status")
    parts.sub(status, "Timestamp", format_timestamp(info.timestamp), "Status")
    if info.staff is not None:
        parts.write_staff(status, info.staff, "Status")
    etree.SubElement(envelope, NS + "edXMLBody")
    check_schema(envelope, "status")
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _check_status(info: StatusInfo) -> None:
    check_organ_id(info.response_for.organ_id, "Status/ResponseFor/OrganId")
    check_organ_id(info.sender.organ_id, "Status/From/OrganId")
    if info.response_for.document_id:
        check_document_id(info.response_for.document_id, "Status/ResponseFor/DocumentId")
    elif info.code != StatusCode.REJECTED:
        # Only a rejection of a package too broken to name its document may go without.
        raise refuse("Status/ResponseFor/DocumentId", "bị thiếu (bắt buộc với mọi trạng thái trừ 02)")
    try:
        StatusCode(info.code)
    except ValueError:
        raise refuse("Status/StatusCode", "không thuộc các mã trạng thái 01–06, 13, 15, 16", info.code) from None


def parse_status(data: bytes, *, max_bytes: int = STATUS_MAX_BYTES, recipient: str | None = None) -> StatusInfo:
    """Read a status message; ``recipient`` (our mã định danh) must be the sender of the document it answers."""
    try:
        return _parse(data, max_bytes=max_bytes, recipient=recipient)
    except EnvelopeError as error:
        logger.warning("%s", error.log)
        raise


def _parse(data: bytes, *, max_bytes: int, recipient: str | None) -> StatusInfo:
    root = read_xml(data, max_bytes=max_bytes)
    if root.tag != NS + "edXMLEnvelope":
        raise EnvelopeError(
            "phần tử gốc không phải thông báo trạng thái edXML "
            f"(cần «edXMLEnvelope» thuộc không gian tên {NAMESPACE})"
        )
    canonical_order(root)
    check_schema(root, "status")
    status = root[0].find(NS + "Status")
    assert status is not None  # the schema requires it
    response_element = status.find(NS + "ResponseFor")
    sender_element = status.find(NS + "From")
    assert response_element is not None and sender_element is not None
    response = parts.read_response_for(response_element, "Status/ResponseFor")
    code = StatusCode(parts.text(status, "StatusCode"))
    if not response.document_id and code != StatusCode.REJECTED:
        raise refuse("Status/ResponseFor/DocumentId", "bị thiếu (bắt buộc với mọi trạng thái trừ 02)")
    if recipient is not None and response.organ_id != recipient:
        raise refuse(
            "Status/ResponseFor/OrganId",
            f"không phải cơ quan này ({recipient}): thông báo trạng thái không gửi đến cơ quan này",
            response.organ_id,
        )
    return StatusInfo(
        response_for=response,
        sender=parts.read_organ(sender_element, "Status/From"),
        code=code,
        timestamp=parse_timestamp(parts.text(status, "Timestamp"), "Status/Timestamp"),
        description=parts.text(status, "Description"),
        staff=parts.read_staff(status.find(NS + "StaffInfo")),
    )


def rejection_status(
    error: EnvelopeError,
    data: bytes,
    *,
    receiver: OrganInfo,
    at: dt.datetime,
    staff: StaffInfo | None = None,
) -> StatusInfo | None:
    """The status 02 answer to a package refused with ``error``, or None when its sender cannot be read.

    Whatever of From/OrganId, Code, PromulgationDate and DocumentId is well formed in the refused bytes is
    echoed back, so the sender's system can match the rejection to what it sent.
    """
    response = salvage_response_for(data)
    if response is None:
        return None
    description = f"{StatusCode.REJECTED.label}: {error.message}"
    if len(description) > DESCRIPTION_LIMIT:
        description = description[: DESCRIPTION_LIMIT - 1] + "…"
    return StatusInfo(
        response_for=response,
        sender=receiver,
        code=StatusCode.REJECTED,
        timestamp=local_naive(at),
        description=description,
        staff=staff,
    )


def salvage_response_for(data: bytes) -> ResponseForInfo | None:
    """Best effort: which document a (possibly broken or oversized) package claims to be, from its header."""
    root = read_xml_prefix(data)
    if root is None:
        return None
    header = root.find(f"{NS}edXMLEnvelope/{NS}edXMLHeader/{NS}MessageHeader")
    if header is None:
        return None
    organ_id = parts.text(header.find(NS + "From"), "OrganId")
    if not ORGAN_ID.fullmatch(organ_id):
        return None
    code = header.find(NS + "Code")
    number, notation = parts.text(code, "CodeNumber"), parts.text(code, "CodeNotation")
    code_text = f"{number}/{notation}" if number and notation and len(number) + len(notation) < 50 else ""
    promulgation_date = None
    date_text = parts.text(header.find(NS + "PromulgationInfo"), "PromulgationDate")
    try:
        promulgation_date = parse_date(date_text, "PromulgationDate") if date_text else None
    except EnvelopeError:
        promulgation_date = None
    document_id = parts.text(header, "DocumentId")
    if not (DOCUMENT_ID.fullmatch(document_id) and _real_date(document_id.split(",")[1])):
        document_id = ""
    return ResponseForInfo(
        organ_id=organ_id, code=code_text, promulgation_date=promulgation_date, document_id=document_id
    )


def _real_date(text: str) -> bool:
    try:
        parse_date(text, "DocumentId")
    except EnvelopeError:
        return False
    return True
