"""Reading XML from other systems without trusting it, and checking it against our schemas.

The parser never fetches anything, never loads or applies a DTD, never expands an entity, and a document that
declares a DOCTYPE at all is refused. The byte cap is checked before libxml2 sees a byte.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from pathlib import Path

from lxml import etree

from .errors import EnvelopeError, EnvelopeTooLargeError
from .fields import LABELS, label_of
from .model import NAMESPACE, XLINK_NAMESPACE

DEFAULT_MAX_BYTES = 64 * 1024 * 1024

# libxml2 refuses a text node over 10 MB unless huge_tree is set, and an 8 MB scan is 11 MB of base64. Above this
# size the per-node limits are lifted and the byte cap (checked first) bounds memory; DOCTYPE and entities stay
# refused either way.
_LIBXML_TEXT_LIMIT = 10_000_000
_PROLOG_SCAN = 64 * 1024

XSD_DIR = Path(__file__).with_name("xsd")
NS = "{" + NAMESPACE + "}"

# The canonical order of children (the schemas' sequences). A peer's order is normalised to it before the
# schema check, so vendors that write Type after TypeName are accepted; unknown elements sort last and are
# refused by the schema.
CHILD_ORDER: dict[str, tuple[str, ...]] = {
    "edXMLEnvelope": ("edXMLHeader", "edXMLBody"),
    "edXMLHeader": ("MessageHeader", "TraceHeaderList", "Status", "Signature"),
    "MessageHeader": (
        "From", "To", "Code", "PromulgationInfo", "DocumentType", "Subject", "Content", "SignerInfo", "DueDate",
        "ToPlaces", "OtherInfo", "ResponseFor", "SteeringType", "DocumentId",
    ),
    "From": ("OrganId", "OrganizationInCharge", "OrganName", "OrganAdd", "Email", "Telephone", "Fax", "Website"),
    "To": ("OrganId", "OrganizationInCharge", "OrganName", "OrganAdd", "Email", "Telephone", "Fax", "Website"),
    "Code": ("CodeNumber", "CodeNotation"),
    "PromulgationInfo": ("Place", "PromulgationDate"),
    "DocumentType": ("Type", "TypeDetail", "TypeName"),
    "SignerInfo": ("Competence", "Position", "FullName"),
    "OtherInfo": (
        "Priority", "SphereOfPromulgation", "TyperNotation", "PromulgationAmount", "PageAmount", "Appendixes",
        "Direction", "Secret", "ContactInfo",
    ),
    "ResponseFor": ("OrganId", "Code", "PromulgationDate", "DocumentId"),
    "TraceHeaderList": ("TraceHeader", "Bussiness"),
    "TraceHeader": ("OrganId", "Timestamp"),
    "Bussiness": (
        "BussinessDocType", "BussinessDocReason", "BussinessDocumentInfo", "DocumentId", "StaffInfo",
        "ReplacementInfoList", "Paper",
    ),
    "BussinessDocumentInfo": ("DocumentInfo", "DocumentReceiver", "ReceiverList"),
    "Receiver": ("ReceiverType", "OrganId"),
    "ReplacementInfo": ("DocumentId", "OrganIdList"),
    "StaffInfo": ("Department", "Staff", "Mobile", "Email"),
    "Reference": ("ContentId", "ContentType", "AttachmentName", "Description"),
    "Attachment": ("ContentId", "AttachmentName", "ContentType", "Description", "ContentTransferEncoded"),
    "Status": ("ResponseFor", "From", "StatusCode", "Description", "Timestamp", "StaffInfo"),
}

_local = threading.local()


def _parser(huge: bool) -> etree.XMLParser:
    # lxml parsers keep state per parse: one per thread.
    key = "huge_parser" if huge else "parser"
    parser = getattr(_local, key, None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=huge,
            remove_comments=True,
            remove_pis=True,
            collect_ids=False,
        )
        setattr(_local, key, parser)
    return parser


def read_xml(data: object, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse untrusted bytes into a tree, or raise EnvelopeError."""
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise EnvelopeError("dữ liệu nhận được không phải là tệp XML dạng byte")
    if len(data) > max_bytes:
        raise EnvelopeTooLargeError(
            f"dung lượng {_mb(len(data))} vượt giới hạn {_mb(max_bytes)} cho một gói tin",
            log=f"{len(data)} bytes > limit {max_bytes}",
        )
    if not data.strip():
        raise EnvelopeError("tệp rỗng")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:4] in (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00"):
        raise EnvelopeError("tệp phải được mã hóa UTF-8")
    head = data[:_PROLOG_SCAN]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise EnvelopeError("tệp có khai báo DOCTYPE hoặc ENTITY, không được phép trong gói tin liên thông")
    try:
        tree = etree.fromstring(data, _parser(len(data) > _LIBXML_TEXT_LIMIT))
    except etree.XMLSyntaxError as exc:
        line, column = (exc.position if exc.position else (0, 0))
        raise EnvelopeError(
            f"tệp không phải là XML hợp lệ (lỗi ở dòng {line}, cột {column})", log=f"XML syntax: {exc}"
        ) from None
    except (ValueError, MemoryError) as exc:
        raise EnvelopeError("tệp không phải là XML hợp lệ", log=f"XML unreadable: {exc!r}") from None
    docinfo = tree.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise EnvelopeError("tệp có khai báo DOCTYPE, không được phép trong gói tin liên thông")
    if (docinfo.encoding or "UTF-8").upper() not in ("UTF-8", "UTF8"):
        raise EnvelopeError(f"tệp phải được mã hóa UTF-8 (tệp khai báo {docinfo.encoding})")
    return tree


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")


def localname(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def canonical_order(root: etree._Element) -> None:
    """Put the children of every known element into the schema's order (stable; unknown ones last)."""
    for element in root.iter(NS + "*"):
        order = CHILD_ORDER.get(localname(element))
        if order is None or len(element) < 2:
            continue
        rank = {name: i for i, name in enumerate(order)}
        children = list(element)
        keys = [rank.get(localname(c), len(order)) if c.tag.startswith(NS) else len(order) for c in children]
        if keys != sorted(keys):
            element[:] = [c for _, _, c in sorted(zip(keys, range(len(children)), children, strict=True))]


def _schema(name: str) -> etree.XMLSchema:
    # One compiled schema per thread: a schema's error_log belongs to its last validation.
    cache: dict[str, etree.XMLSchema] | None = getattr(_local, "schemas", None)
    if cache is None:
        cache = _local.schemas = {}
    schema = cache.get(name)
    if schema is None:
        schema = cache[name] = etree.XMLSchema(etree.parse(str(XSD_DIR / f"{name}.xsd")))
    return schema


def check_schema(element: etree._Element, name: str, *, prefix: str = "") -> None:
    """Validate ``element`` (a document root or a sub-tree) against xsd/<name>.xsd, or raise EnvelopeError."""
    schema = _schema(name)
    if schema.validate(element):
        return
    raise schema_error(schema.error_log, prefix=prefix)


_EXPECTED = re.compile(r"Expected is (?:one of )?\( ([^)]*) \)")
_NAME = re.compile(r"\{[^}]*\}([\w.-]+)|\b([\w.-]+)\b")
_ATTRIBUTE = re.compile(r"attribute '(?:\{[^}]*\})?([\w.-]+)'")


def _names(text: str) -> list[str]:
    return [a or b for a, b in _NAME.findall(text)]


def readable_path(xpath: str | None, prefix: str = "") -> str:
    """'/edXML/edXML:edXMLEnvelope/edXML:edXMLHeader/edXML:MessageHeader/edXML:To[2]' -> 'MessageHeader/To[2]'."""
    if not xpath:
        return prefix.rstrip("/") or "edXML"
    steps = [step.split(":")[-1] for step in xpath.strip("/").split("/") if step]
    for anchor in ("edXMLHeader", "edXMLBody", "AttachmentEncoded"):
        bare = [s.split("[")[0] for s in steps]
        if anchor in bare:
            index = bare.index(anchor)
            steps = steps[index + 1:] if anchor == "edXMLHeader" else steps[index:]
            break
    return "/".join([prefix.rstrip("/")] + steps if prefix else steps) or "edXML"


def schema_error(log: Iterable[etree._LogEntry], *, prefix: str = "") -> EnvelopeError:
    """The first schema violation as a Vietnamese sentence naming the field."""
    entry = next(iter(log))
    message = entry.message or ""
    path = readable_path(entry.path, prefix)
    kind = entry.type_name or ""
    raw = f"{entry.type_name}: {message} at {entry.path}"
    if "Missing child element" in message:
        expected = _EXPECTED.search(message)
        names = _names(expected.group(1)) if expected else []
        missing = names[0] if names else ""
        field = f"{path}/{missing}" if missing else path
        return EnvelopeError("bị thiếu (bắt buộc)", field=field, label=label_of(field), log=raw)
    if "This element is not expected" in message:
        here = path.rsplit("/", 1)[-1].split("[", 1)[0]
        reason = (
            "không được phép ở đây (phần tử không có trong QCVN 102:2016 hoặc lặp lại quá số lần cho phép)"
            if here not in LABELS
            else "không được phép ở vị trí này hoặc lặp lại quá số lần cho phép"
        )
        return EnvelopeError(reason, field=path, label=label_of(path), log=raw)
    if "No matching global declaration" in message or kind == "SCHEMAV_CVC_ELT_1":
        return EnvelopeError("phần tử gốc không phải của gói tin edXML QCVN 102:2016", log=raw)
    attribute = _ATTRIBUTE.search(message)
    if attribute and ("attribute" in message.lower()):
        field = f"{path}/@{attribute.group(1)}"
        if "is required but missing" in message:
            return EnvelopeError("bị thiếu (bắt buộc)", field=field, label=label_of(field), log=raw)
        if "is not allowed" in message:
            return EnvelopeError("không được phép", field=field, label=label_of(field), log=raw)
        return EnvelopeError("có giá trị không hợp lệ", field=field, label=label_of(field), log=raw)
    if "MAXLENGTH" in kind or "maxLength" in message:
        return EnvelopeError("dài quá độ dài cho phép", field=path, label=label_of(path), log=raw)
    if "Element content is not allowed" in message or "not allowed, because the content type" in message:
        return EnvelopeError("chỉ được chứa văn bản, không chứa phần tử con", field=path, label=label_of(path), log=raw)
    if "facet 'maxInclusive'" in message or "facet 'minInclusive'" in message:
        return EnvelopeError("nằm ngoài khoảng giá trị cho phép", field=path, label=label_of(path), log=raw)
    if "facet 'enumeration'" in message:
        return EnvelopeError("không thuộc các giá trị cho phép", field=path, label=label_of(path), log=raw)
    if "facet 'pattern'" in message or "not a valid value" in message or "is not accepted" in message:
        return EnvelopeError("không đúng định dạng", field=path, label=label_of(path), log=raw)
    return EnvelopeError("không đúng cấu trúc QCVN 102:2016", field=path, label=label_of(path), log=raw)


def xlink(name: str) -> str:
    return "{" + XLINK_NAMESPACE + "}" + name
