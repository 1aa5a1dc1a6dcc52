"""Reading XML from other systems without trusting it, and checking it against our schemas.

The parser never fetches anything, never loads or applies a DTD, never expands an entity, and a document that
declares a DOCTYPE at all is refused. The byte cap is checked before libxml2 sees a byte.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from .errors import EnvelopeError, EnvelopeTooLargeError
from .fields import label_of
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
    if not data or data.isspace():
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


# How much of a refused package is read to find out who sent it (the header comes first).
SALVAGE_BYTES = 1024 * 1024


def read_xml_prefix(data: object) -> etree._Element | None:
    """The well-formed start of a package that was refused (too large, broken further down), or None.

    Used only to address the status 02 rejection: libxml2's recovery mode on the first MB, with the same
    refusals of DTDs, entities and the network.
    """
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        return None
    prefix = data[:SALVAGE_BYTES]
    if b"<!DOCTYPE" in prefix or b"<!ENTITY" in prefix:
        return None
    parser = etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        remove_comments=True, remove_pis=True, collect_ids=False,
    )
    try:
        root = etree.fromstring(prefix, parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root is None or root.getroottree().docinfo.doctype:
        return None
    return root


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")


def localname(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


_RANKS: dict[str, dict[str, int]] = {
    NS + parent: {NS + name: i for i, name in enumerate(order)} for parent, order in CHILD_ORDER.items()
}


def canonical_order(root: etree._Element) -> None:
    """Put the children of every known element into the schema's order (stable; unknown ones last)."""
    for element in root.iter(NS + "*"):
        rank = _RANKS.get(element.tag)
        if rank is None or len(element) < 2:
            continue
        last = len(rank)
        keys = [rank.get(c.tag, last) for c in element]
        if keys != sorted(keys):
            children = list(element)
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


def check_schema(element: etree._Element, name: str) -> None:
    """Validate ``element`` (a document root or a sub-tree) against xsd/<name>.xsd, or raise EnvelopeError."""
    schema = _schema(name)
    if schema.validate(element):
        return
    raise schema_error(next(iter(schema.error_log)), element)


# What a value must look like, said to the clerk when a pattern refuses it.
FORMAT_HINTS: dict[str, str] = {
    "OrganId": "không đúng định dạng mã định danh của QĐ 20/2020/QĐ-TTg (ví dụ 000.00.00.H61)",
    "PromulgationDate": "không đúng định dạng ngày YYYY/MM/DD",
    "DueDate": "không đúng định dạng ngày YYYY/MM/DD",
    "Timestamp": "không đúng định dạng thời điểm yyyy/MM/dd HH:mm:ss",
    "DocumentId": (
        "không đúng định dạng «mã định danh,YYYY/MM/DD,số/ký hiệu» (ví dụ 000.00.00.H61,2026/12/03,15/QĐ-UBND)"
    ),
    "CodeNumber": "không đúng định dạng số văn bản (1 đến 11 chữ số hoặc chữ cái)",
    "CodeNotation": "không đúng định dạng ký hiệu (chữ, số và - / . &, tối đa 30 ký tự)",
    "ContentId": "không đúng định dạng mã tệp (chữ, số và . _ @ + -, tối đa 128 ký tự)",
    "ContentType": "không phải kiểu MIME hợp lệ (ví dụ application/pdf)",
    "href": "phải có dạng cid:<mã tệp>",
    "StatusCode": "không thuộc các mã trạng thái 01–06, 13, 15, 16",
}

_EXPECTED = re.compile(r"Expected is (?:one of )?\( ([^)]*) \)")
_NAME = re.compile(r"\{[^}]*\}([\w.-]+)|([\w.-]+)")
_ATTRIBUTE = re.compile(r"attribute '(?:\{[^}]*\})?([\w.-]+)'")
_VALUE = re.compile(r"The value '(.*?)' is not|: '([^']*)' is not a valid value")


def element_path(element: etree._Element) -> str:
    """Where ``element`` sits, from the header down: 'MessageHeader/To[2]/OrganId'."""
    steps: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        name = localname(node)
        if name == "edXMLHeader":
            break
        parent = node.getparent()
        if parent is None and name == "edXML" and steps:
            break
        if parent is not None and name == "edXMLEnvelope" and localname(parent) == "edXML":
            break
        same = [c for c in parent if c.tag == node.tag] if parent is not None else [node]
        steps.append(f"{name}[{same.index(node) + 1}]" if len(same) > 1 else name)
        node = parent
    return "/".join(reversed(steps)) or "edXML"


def _locate(entry: etree._LogEntry, validated: etree._Element) -> etree._Element | None:
    """The element a schema error is about: libxml2's path is absolute within the validated (sub)tree."""
    steps = (entry.path or "").strip("/").split("/")
    if not steps or not steps[0]:
        return None
    relative = "/".join(steps[1:])
    try:
        found = validated.xpath(relative, namespaces={"edXML": NAMESPACE, "xlink": XLINK_NAMESPACE}) if relative else [
            validated
        ]
    except etree.XPathError:
        return None
    return found[0] if found and isinstance(found[0], etree._Element) else None


def _names(text: str) -> list[str]:
    return [a or b for a, b in _NAME.findall(text) if (a or b) not in ("one", "of")]


def schema_error(entry: etree._LogEntry, validated: etree._Element) -> EnvelopeError:
    """A schema violation as a Vietnamese sentence naming the field."""
    message = entry.message or ""
    raw = f"{entry.type_name}: {message} at {entry.path}"
    element = _locate(entry, validated)
    path = element_path(element) if element is not None else "edXML"
    here = localname(element) if element is not None else ""

    def refuse(field: str, reason: str) -> EnvelopeError:
        return EnvelopeError(reason, field=field, label=label_of(field), log=raw)

    if "No matching global declaration" in message:
        return EnvelopeError("phần tử gốc không phải của gói tin edXML QCVN 102:2016", log=raw)
    if "Missing child element" in message:
        expected = _EXPECTED.search(message)
        names = _names(expected.group(1)) if expected else []
        return refuse(f"{path}/{names[-1]}" if names else path, "bị thiếu (bắt buộc)")
    if "This element is not expected" in message and element is not None:
        return _unexpected(element, path, here, message, refuse)
    attribute = _ATTRIBUTE.search(message)
    if attribute:
        field = f"{path}/@{attribute.group(1)}"
        if "is required but missing" in message:
            return refuse(field, "bị thiếu (bắt buộc)")
        if "is not allowed" in message:
            return refuse(field, "không được phép ở phần tử này")
        return refuse(field, _value_reason(attribute.group(1), message))
    if "Character content other than whitespace is not allowed" in message:
        return refuse(path, "chứa văn bản không được phép (chỉ được chứa các phần tử con)")
    if "Element content is not allowed" in message:
        return refuse(path, "chỉ được chứa văn bản, không chứa phần tử con")
    return refuse(path, _value_reason(here, message))


def _value_reason(name: str, message: str) -> str:
    match = _VALUE.search(message)
    value = next((g for g in match.groups() if g is not None), "") if match else ""
    shown = f"«{value[:60]}» " if value.strip() else ""
    if "facet 'maxLength'" in message:
        return f"{shown}dài quá độ dài cho phép".strip()
    if "facet 'maxInclusive'" in message or "facet 'minInclusive'" in message:
        return f"{shown}nằm ngoài khoảng giá trị cho phép".strip()
    if "facet 'enumeration'" in message:
        return f"{shown}{FORMAT_HINTS.get(name, 'không thuộc các giá trị cho phép')}".strip()
    if not value.strip() and "facet 'pattern'" in message:
        return "bị bỏ trống (bắt buộc)"
    return f"{shown}{FORMAT_HINTS.get(name, 'không đúng định dạng')}".strip()


def _unexpected(element: etree._Element, path: str, here: str, message: str, refuse: Callable[[str, str], EnvelopeError]
                ) -> EnvelopeError:
    parent = element.getparent()
    order = CHILD_ORDER.get(localname(parent)) if parent is not None else None
    if order is None or here not in order or not element.tag.startswith(NS):
        return refuse(path, "không có trong QCVN 102:2016, không được phép ở đây")
    previous = element.getprevious()
    while previous is not None and not isinstance(previous.tag, str):
        previous = previous.getprevious()
    if previous is not None and previous.tag == element.tag:
        return refuse(path, "bị lặp, chỉ được có một lần (hoặc quá số lần cho phép)")
    # Children were put in canonical order first, so an element that comes too early means one before it is
    # missing: the last expected name that ranks before it.
    expected = _EXPECTED.search(message)
    names = [n for n in (_names(expected.group(1)) if expected else []) if n in order]
    earlier = [n for n in names if order.index(n) < order.index(here)]
    if earlier and parent is not None:
        return refuse(f"{element_path(parent)}/{earlier[-1]}", "bị thiếu (bắt buộc)")
    return refuse(path, "không được phép ở vị trí này")


def xlink(name: str) -> str:
    return "{" + XLINK_NAMESPACE + "}" + name
