"""The edXML document package: build_envelope(info) -> bytes and parse_envelope(bytes) -> info.

Both directions hold the package to xsd/edxml.xsd. The base64 of the files never goes through the tree
serialiser or the schema's base64 check (tens of ms for a 2 MB PDF): it is spliced in when writing, and
swapped out of the tree before the schema runs when reading, then decoded strictly on its own.
"""

from __future__ import annotations

import binascii
import logging
import re
import secrets
import unicodedata

import pybase64
from lxml import etree

from app.core.text import nfc

from . import parts
from .errors import EnvelopeError
from .fields import (
    check_document_id,
    check_organ_id,
    document_id_organ,
    format_date,
    format_timestamp,
    parse_timestamp,
    refuse,
)
from .model import (
    NAMESPACE,
    SOAP_ACTOR_NEXT,
    XLINK_NAMESPACE,
    AttachmentInfo,
    BusinessDocType,
    BusinessDocumentInfo,
    BusinessInfo,
    CodeInfo,
    DocumentTypeInfo,
    EnvelopeInfo,
    MessageHeaderInfo,
    OtherInfo,
    PromulgationInfo,
    ReceiverInfo,
    ReplacementInfo,
    SignerInfo,
    TraceHeaderInfo,
    TraceHeaderListInfo,
)
from .xmlio import DEFAULT_MAX_BYTES, NS, canonical_order, check_schema, read_xml, xlink

logger = logging.getLogger("qlvb.interchange")

CONTENT_ID = re.compile(r"[A-Za-z0-9._@+\-]{1,128}")
CONTENT_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+\-]{0,62}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+\-]{0,126}")
_WHITESPACE = re.compile(r"\s+")


# ---------------------------------------------------------------------------------------------------- building


def build_envelope(info: EnvelopeInfo) -> bytes:
    """The package as UTF-8 bytes; refuses (EnvelopeError) what parse_envelope would refuse."""
    header = info.header
    _check_header(header)
    _check_attachments(info.attachments)

    root = etree.Element(NS + "edXML", nsmap={None: NAMESPACE})
    envelope = etree.SubElement(root, NS + "edXMLEnvelope", nsmap={"edXML": NAMESPACE, "xlink": XLINK_NAMESPACE})
    head = etree.SubElement(envelope, NS + "edXMLHeader")
    _write_message_header(head, header)
    _write_trace(head, info.trace)
    body = etree.SubElement(envelope, NS + "edXMLBody")
    manifest = etree.SubElement(body, NS + "edXMLManifest", version="1.0")
    for i, attachment in enumerate(info.attachments):
        path = parts.indexed("edXMLBody/edXMLManifest", "Reference", i, len(info.attachments))
        reference = etree.SubElement(manifest, NS + "Reference")
        reference.set(xlink("href"), "cid:" + attachment.content_id)
        reference.set(xlink("type"), "simple")
        parts.sub(reference, "ContentId", attachment.content_id, path)
        parts.sub(reference, "ContentType", attachment.content_type, path)
        parts.sub(reference, "AttachmentName", attachment.name, path)
        parts.sub_optional(reference, "Description", attachment.description, path)
    check_schema(envelope, "edxml")

    tokens: list[bytes] = []
    if info.attachments:
        encoded = etree.SubElement(root, NS + "AttachmentEncoded")
        for i, attachment in enumerate(info.attachments):
            path = parts.indexed("AttachmentEncoded", "Attachment", i, len(info.attachments))
            element = etree.SubElement(encoded, NS + "Attachment")
            parts.sub(element, "ContentId", attachment.content_id, path)
            parts.sub(element, "AttachmentName", attachment.name, path)
            parts.sub(element, "ContentType", attachment.content_type, path)
            parts.sub_optional(element, "Description", attachment.description, path)
            token = f"QLVB-BASE64-{secrets.token_hex(12)}-{i}"
            parts.sub(element, "ContentTransferEncoded", token, path)
            tokens.append(token.encode("ascii"))
    out = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    if not tokens:
        return out
    pieces: list[bytes] = []
    rest = out
    for token, attachment in zip(tokens, info.attachments, strict=True):
        before, found, rest = rest.partition(token)
        if not found:  # pragma: no cover - a random token cannot be lost
            raise RuntimeError("base64 placeholder lost while serialising an edXML package")
        pieces += (before, pybase64.b64encode(attachment.content))
    pieces.append(rest)
    return b"".join(pieces)


def _check_header(header: MessageHeaderInfo) -> None:
    check_organ_id(header.sender.organ_id, "MessageHeader/From/OrganId")
    if not header.recipients:
        raise refuse("MessageHeader/To", "bị thiếu: gói tin phải có ít nhất một cơ quan nhận")
    seen: set[str] = set()
    for i, organ in enumerate(header.recipients):
        path = parts.indexed("MessageHeader", "To", i, len(header.recipients)) + "/OrganId"
        check_organ_id(organ.organ_id, path)
        if organ.organ_id in seen:
            raise refuse(path, "bị lặp: một cơ quan chỉ được nhận một lần trong một gói tin", organ.organ_id)
        seen.add(organ.organ_id)
    check_document_id(header.document_id, "MessageHeader/DocumentId")
    if document_id_organ(header.document_id) != header.sender.organ_id:
        raise refuse(
            "MessageHeader/DocumentId",
            f"phải bắt đầu bằng mã định danh của cơ quan gửi ({header.sender.organ_id})",
            header.document_id,
        )


def _write_message_header(head: etree._Element, h: MessageHeaderInfo) -> None:
    path = "MessageHeader"
    element = etree.SubElement(head, NS + "MessageHeader")
    parts.write_organ(element, "From", h.sender, f"{path}/From")
    for i, organ in enumerate(h.recipients):
        parts.write_organ(element, "To", organ, parts.indexed(path, "To", i, len(h.recipients)))
    code = etree.SubElement(element, NS + "Code")
    parts.sub(code, "CodeNumber", h.code.number, f"{path}/Code")
    parts.sub(code, "CodeNotation", h.code.notation, f"{path}/Code")
    promulgation = etree.SubElement(element, NS + "PromulgationInfo")
    parts.sub_optional(promulgation, "Place", h.promulgation.place, f"{path}/PromulgationInfo")
    parts.sub(promulgation, "PromulgationDate", format_date(h.promulgation.date), f"{path}/PromulgationInfo")
    kind = etree.SubElement(element, NS + "DocumentType")
    parts.sub(kind, "Type", h.document_type.type, f"{path}/DocumentType")
    parts.sub_optional(kind, "TypeDetail", h.document_type.type_detail, f"{path}/DocumentType")
    parts.sub(kind, "TypeName", h.document_type.type_name, f"{path}/DocumentType")
    parts.sub(element, "Subject", h.subject, path)
    parts.sub_optional(element, "Content", h.content, path)
    signer = etree.SubElement(element, NS + "SignerInfo")
    parts.sub_optional(signer, "Competence", h.signer.competence, f"{path}/SignerInfo")
    parts.sub_optional(signer, "Position", h.signer.position, f"{path}/SignerInfo")
    parts.sub(signer, "FullName", h.signer.full_name, f"{path}/SignerInfo")
    if h.due_date is not None:
        parts.sub(element, "DueDate", format_date(h.due_date), path)
    if h.to_places:
        places = etree.SubElement(element, NS + "ToPlaces")
        for place in h.to_places:
            parts.sub(places, "Place", place, f"{path}/ToPlaces")
    if h.other is not None:
        _write_other(element, h.other, f"{path}/OtherInfo")
    for response in h.response_for:
        parts.write_response_for(element, response, f"{path}/ResponseFor")
    parts.sub_optional(element, "SteeringType", h.steering_type, path)
    parts.sub(element, "DocumentId", h.document_id, path)


def _write_other(parent: etree._Element, other: OtherInfo, path: str) -> None:
    element = etree.SubElement(parent, NS + "OtherInfo")
    parts.sub_optional(element, "Priority", other.priority, path)
    parts.sub_optional(element, "SphereOfPromulgation", other.sphere_of_promulgation, path)
    parts.sub_optional(element, "TyperNotation", other.typer_notation, path)
    parts.sub_optional(element, "PromulgationAmount", other.promulgation_amount, path)
    parts.sub_optional(element, "PageAmount", other.page_amount, path)
    if other.appendixes:
        appendixes = etree.SubElement(element, NS + "Appendixes")
        for appendix in other.appendixes:
            parts.sub(appendixes, "Appendix", appendix, f"{path}/Appendixes")


def _write_trace(head: etree._Element, trace: TraceHeaderListInfo) -> None:
    path = "TraceHeaderList"
    element = etree.SubElement(head, NS + "TraceHeaderList")
    element.set("id", "TraceHeaderList")
    element.set("version", "1.0")
    element.set("mustUnderstand", "1")
    element.set("actor", SOAP_ACTOR_NEXT)
    for i, hop in enumerate(trace.traces):
        hop_path = parts.indexed(path, "TraceHeader", i, len(trace.traces))
        item = etree.SubElement(element, NS + "TraceHeader")
        check_organ_id(hop.organ_id, f"{hop_path}/OrganId")
        parts.sub(item, "OrganId", hop.organ_id, hop_path)
        parts.sub(item, "Timestamp", format_timestamp(hop.timestamp), hop_path)
    b = trace.business
    bpath = f"{path}/Bussiness"
    business = etree.SubElement(element, NS + "Bussiness")
    parts.sub(business, "BussinessDocType", int(b.doc_type), bpath)
    parts.sub_optional(business, "BussinessDocReason", b.doc_reason, bpath)
    if b.document_info is not None:
        info = etree.SubElement(business, NS + "BussinessDocumentInfo")
        ipath = f"{bpath}/BussinessDocumentInfo"
        parts.sub_optional(info, "DocumentInfo", b.document_info.document_info, ipath)
        parts.sub_optional(info, "DocumentReceiver", b.document_info.document_receiver, ipath)
        if b.document_info.receivers:
            receivers = etree.SubElement(info, NS + "ReceiverList")
            for receiver in b.document_info.receivers:
                item = etree.SubElement(receivers, NS + "Receiver")
                parts.sub(item, "ReceiverType", receiver.receiver_type, f"{ipath}/ReceiverList/Receiver")
                parts.sub(item, "OrganId", receiver.organ_id, f"{ipath}/ReceiverList/Receiver")
    parts.sub_optional(business, "DocumentId", b.document_id, bpath)
    if b.staff is not None:
        parts.write_staff(business, b.staff, bpath)
    if b.replacements:
        replacements = etree.SubElement(business, NS + "ReplacementInfoList")
        for replacement in b.replacements:
            rpath = f"{bpath}/ReplacementInfoList/ReplacementInfo"
            item = etree.SubElement(replacements, NS + "ReplacementInfo")
            parts.sub(item, "DocumentId", replacement.document_id, rpath)
            organs = etree.SubElement(item, NS + "OrganIdList")
            for organ_id in replacement.organ_ids:
                parts.sub(organs, "OrganId", organ_id, f"{rpath}/OrganIdList")
    parts.sub_optional(business, "Paper", b.paper, bpath)


def _check_attachments(attachments: tuple[AttachmentInfo, ...]) -> None:
    seen: set[str] = set()
    for i, attachment in enumerate(attachments):
        path = parts.indexed("AttachmentEncoded", "Attachment", i, len(attachments))
        _check_attachment_meta(attachment.content_id, attachment.name, attachment.content_type, path)
        if attachment.content_id in seen:
            raise refuse(f"{path}/ContentId", "bị lặp với một tệp khác trong gói tin", attachment.content_id)
        seen.add(attachment.content_id)
        if not isinstance(attachment.content, bytes) or not attachment.content:
            raise refuse(f"{path}/ContentTransferEncoded", "rỗng: tệp đính kèm phải có nội dung")


def _check_attachment_meta(content_id: str, name: str, content_type: str, path: str) -> None:
    if not CONTENT_ID.fullmatch(content_id):
        raise refuse(f"{path}/ContentId", "không đúng định dạng (chữ, số và . _ @ + -, tối đa 128 ký tự)", content_id)
    stripped = name.strip()
    if not stripped or len(stripped) > 255:
        raise refuse(f"{path}/AttachmentName", "phải có từ 1 đến 255 ký tự", name)
    if any(ch in stripped for ch in "/\\") or any(unicodedata.category(ch) == "Cc" for ch in stripped):
        raise refuse(f"{path}/AttachmentName", "không được chứa đường dẫn hay ký tự điều khiển", name)
    if not CONTENT_TYPE.fullmatch(content_type):
        raise refuse(f"{path}/ContentType", "không phải kiểu MIME hợp lệ (ví dụ application/pdf)", content_type)


# ----------------------------------------------------------------------------------------------------- parsing


def parse_envelope(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, recipient: str | None = None
) -> EnvelopeInfo:
    """Read a package from another system; anything off the standard raises EnvelopeError naming the field.

    ``recipient``: the mã định danh of the agency receiving it; a package not addressed to it is refused.
    """
    try:
        return _parse(data, max_bytes=max_bytes, recipient=recipient)
    except EnvelopeError as error:
        logger.warning("%s", error.log)
        raise


def _parse(data: bytes, *, max_bytes: int, recipient: str | None) -> EnvelopeInfo:
    root = read_xml(data, max_bytes=max_bytes)
    if root.tag != NS + "edXML":
        raise EnvelopeError(
            f"phần tử gốc «{_tag(root)}» không phải gói tin edXML (cần «edXML» thuộc không gian tên {NAMESPACE})"
        )
    canonical_order(root)
    # The files' base64 is taken out before the schema runs and decoded on its own below.
    # Keyed by the element itself: holding the proxy keeps it (and so its identity) alive until it is read.
    payloads: dict[etree._Element, str] = {}
    for element in root.iter(NS + "ContentTransferEncoded"):
        payloads[element] = element.text or ""
        element.text = None
    check_schema(root, "edxml")

    envelope = root[0]
    head = parts.child(envelope, "edXMLHeader")
    body = parts.child(envelope, "edXMLBody")
    assert head is not None and body is not None  # the schema requires both
    header = _read_message_header(_required(head, "MessageHeader"))
    if recipient is not None and recipient not in {organ.organ_id for organ in header.recipients}:
        raise refuse(
            "MessageHeader/To",
            f"không có cơ quan nhận là {recipient}: gói tin không gửi đến cơ quan này",
        )
    trace = _read_trace(_required(head, "TraceHeaderList"))
    encoded = parts.child(root, "AttachmentEncoded")
    attachments = _read_attachments(
        _required(body, "edXMLManifest"), list(encoded) if encoded is not None else [], payloads
    )
    return EnvelopeInfo(header=header, trace=trace, attachments=attachments)


def _required(parent: etree._Element, name: str) -> etree._Element:
    element = parts.child(parent, name)
    if element is None:  # pragma: no cover - the schema requires it
        raise refuse(name, "bị thiếu (bắt buộc)")
    return element


def _tag(element: etree._Element) -> str:
    tag = element.tag
    if isinstance(tag, str) and tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return f"{name}" + (f" ({ns})" if ns else "")
    return str(tag)[:60]


def _read_message_header(element: etree._Element) -> MessageHeaderInfo:
    path = "MessageHeader"
    sender = parts.read_organ(_required(element, "From"), f"{path}/From")
    to = element.findall(NS + "To")
    recipients = tuple(parts.read_organ(e, parts.indexed(path, "To", i, len(to))) for i, e in enumerate(to))
    seen: set[str] = set()
    for i, organ in enumerate(recipients):
        if organ.organ_id in seen:
            raise refuse(
                parts.indexed(path, "To", i, len(to)) + "/OrganId",
                "bị lặp: một cơ quan chỉ được nhận một lần trong một gói tin",
                organ.organ_id,
            )
        seen.add(organ.organ_id)
    code = _required(element, "Code")
    promulgation = _required(element, "PromulgationInfo")
    kind = _required(element, "DocumentType")
    signer = _required(element, "SignerInfo")
    places = parts.child(element, "ToPlaces")
    other = parts.child(element, "OtherInfo")
    responses = element.findall(NS + "ResponseFor")
    document_id = parts.text(element, "DocumentId")
    check_document_id(document_id, f"{path}/DocumentId")
    if document_id_organ(document_id) != sender.organ_id:
        raise refuse(
            f"{path}/DocumentId",
            f"phải bắt đầu bằng mã định danh của cơ quan gửi ({sender.organ_id})",
            document_id,
        )
    promulgation_date = parts.date(promulgation, "PromulgationDate", f"{path}/PromulgationInfo")
    assert promulgation_date is not None  # the schema requires a YYYY/MM/DD value
    return MessageHeaderInfo(
        sender=sender,
        recipients=recipients,
        code=CodeInfo(number=parts.text(code, "CodeNumber"), notation=parts.text(code, "CodeNotation")),
        promulgation=PromulgationInfo(date=promulgation_date, place=parts.text(promulgation, "Place")),
        document_type=DocumentTypeInfo(
            type_name=parts.text(kind, "TypeName"),
            type=parts.integer(kind, "Type") or 0,
            type_detail=parts.integer(kind, "TypeDetail"),
        ),
        subject=parts.text(element, "Subject"),
        signer=SignerInfo(
            full_name=parts.text(signer, "FullName"),
            position=parts.text(signer, "Position"),
            competence=parts.text(signer, "Competence"),
        ),
        document_id=document_id,
        content=parts.text(element, "Content"),
        due_date=parts.date(element, "DueDate", path),
        to_places=parts.texts(places, "Place"),
        other=_read_other(other) if other is not None else None,
        response_for=tuple(
            parts.read_response_for(e, parts.indexed(path, "ResponseFor", i, len(responses)))
            for i, e in enumerate(responses)
        ),
        steering_type=parts.integer(element, "SteeringType"),
    )


def _read_other(element: etree._Element) -> OtherInfo:
    appendixes = parts.child(element, "Appendixes")
    return OtherInfo(
        priority=parts.integer(element, "Priority"),
        sphere_of_promulgation=parts.text(element, "SphereOfPromulgation"),
        typer_notation=parts.text(element, "TyperNotation"),
        promulgation_amount=parts.integer(element, "PromulgationAmount"),
        page_amount=parts.integer(element, "PageAmount"),
        appendixes=parts.texts(appendixes, "Appendix"),
    )


def _read_trace(element: etree._Element) -> TraceHeaderListInfo:
    path = "TraceHeaderList"
    hops = element.findall(NS + "TraceHeader")
    traces = []
    for i, hop in enumerate(hops):
        hop_path = parts.indexed(path, "TraceHeader", i, len(hops))
        traces.append(
            TraceHeaderInfo(
                organ_id=parts.text(hop, "OrganId"),
                timestamp=parse_timestamp(parts.text(hop, "Timestamp"), f"{hop_path}/Timestamp"),
            )
        )
    b = _required(element, "Bussiness")
    bpath = f"{path}/Bussiness"
    info = parts.child(b, "BussinessDocumentInfo")
    document_info = None
    if info is not None:
        receivers = parts.child(info, "ReceiverList")
        document_info = BusinessDocumentInfo(
            document_info=parts.integer(info, "DocumentInfo"),
            document_receiver=parts.integer(info, "DocumentReceiver"),
            receivers=tuple(
                ReceiverInfo(organ_id=parts.text(r, "OrganId"), receiver_type=parts.integer(r, "ReceiverType") or 0)
                for r in (receivers.findall(NS + "Receiver") if receivers is not None else [])
            ),
        )
    document_id = parts.text(b, "DocumentId")
    if document_id:
        check_document_id(document_id, f"{bpath}/DocumentId")
    replacements = []
    listing = parts.child(b, "ReplacementInfoList")
    for i, item in enumerate(listing.findall(NS + "ReplacementInfo") if listing is not None else []):
        rpath = f"{bpath}/ReplacementInfoList/ReplacementInfo[{i + 1}]"
        replaced = parts.text(item, "DocumentId")
        check_document_id(replaced, f"{rpath}/DocumentId")
        organs = parts.child(item, "OrganIdList")
        replacements.append(
            ReplacementInfo(
                document_id=replaced,
                organ_ids=tuple(parts.text(o) for o in (organs.findall(NS + "OrganId") if organs is not None else [])),
            )
        )
    return TraceHeaderListInfo(
        business=BusinessInfo(
            doc_type=BusinessDocType(parts.integer(b, "BussinessDocType") or 0),
            doc_reason=parts.text(b, "BussinessDocReason"),
            document_info=document_info,
            document_id=document_id,
            staff=parts.read_staff(parts.child(b, "StaffInfo")),
            replacements=tuple(replacements),
            paper=parts.integer(b, "Paper"),
        ),
        traces=tuple(traces),
    )


def _read_attachments(
    manifest: etree._Element, encoded: list[etree._Element], payloads: dict[etree._Element, str]
) -> tuple[AttachmentInfo, ...]:
    references = manifest.findall(NS + "Reference")
    listed: dict[str, tuple[int, etree._Element]] = {}
    for i, reference in enumerate(references):
        path = parts.indexed("edXMLBody/edXMLManifest", "Reference", i, len(references))
        content_id = _bare_cid(parts.text(reference, "ContentId"))
        href = _bare_cid(reference.get(xlink("href"), ""))
        if href != content_id:
            raise refuse(f"{path}/@href", f"phải là «cid:{content_id}» như mã tệp của nó", reference.get(xlink("href")))
        if content_id in listed:
            raise refuse(f"{path}/ContentId", "bị lặp với một tệp khác trong danh mục", content_id)
        listed[content_id] = (i, reference)

    attachments: list[AttachmentInfo] = []
    found: set[str] = set()
    for i, element in enumerate(encoded):
        path = parts.indexed("AttachmentEncoded", "Attachment", i, len(encoded))
        content_id = _bare_cid(parts.text(element, "ContentId"))
        name = parts.text(element, "AttachmentName")
        content_type = parts.text(element, "ContentType")
        _check_attachment_meta(content_id, name, content_type, path)
        if content_id in found:
            raise refuse(f"{path}/ContentId", "bị lặp với một tệp khác trong gói tin", content_id)
        if content_id not in listed:
            raise refuse(f"{path}/ContentId", "không có trong danh mục tệp (edXMLManifest) của gói tin", content_id)
        found.add(content_id)
        payload = parts.child(element, "ContentTransferEncoded")
        assert payload is not None  # the schema requires it
        content = decode_payload(payloads.get(payload, ""), f"{path}/ContentTransferEncoded")
        description = parts.text(element, "Description") or parts.text(listed[content_id][1], "Description")
        attachments.append(
            AttachmentInfo(
                content_id=content_id, name=nfc(name), content_type=content_type, content=content,
                description=description,
            )
        )
    for content_id, (i, _) in listed.items():
        if content_id not in found:
            path = parts.indexed("edXMLBody/edXMLManifest", "Reference", i, len(references))
            raise refuse(f"{path}/ContentId", "được liệt kê trong danh mục nhưng gói tin không kèm tệp này", content_id)
    return tuple(attachments)


def _bare_cid(value: str) -> str:
    value = value.strip()
    return value[4:] if value[:4].lower() == "cid:" else value


def decode_payload(encoded: str, path: str) -> bytes:
    """The bytes of a file's base64, decoded strictly (white space allowed only as line breaks of a peer)."""
    if not encoded.strip():
        raise refuse(path, "rỗng: tệp đính kèm phải có nội dung")
    try:
        return _b64(encoded)
    except (binascii.Error, ValueError):
        pass
    # Java and .NET encoders wrap lines at 76 characters: white space is dropped only when the fast path fails.
    try:
        return _b64(_WHITESPACE.sub("", encoded))
    except (binascii.Error, ValueError):
        raise refuse(path, "không phải dữ liệu base64 hợp lệ") from None


def _b64(encoded: str) -> bytes:
    content = pybase64.b64decode(encoded, validate=True)
    if not content:
        raise ValueError("empty")
    return content
