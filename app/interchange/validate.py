"""validate(data): the strict XSD check of a package or status message, as written (no reordering)."""

from __future__ import annotations

from .envelope import decode_payload
from .errors import EnvelopeError
from .xmlio import DEFAULT_MAX_BYTES, NS, check_schema, element_path, read_xml


def validate(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Check ``data`` against xsd/edxml.xsd or xsd/status.xsd (by its root); returns which, or raises EnvelopeError.

    Unlike parse_envelope this holds a peer to the schema's element order exactly, so it is what a conformance
    test or a check of our own output uses. libxml2's xs:base64Binary skips characters outside the alphabet,
    so every file's base64 is also decoded strictly.
    """
    root = read_xml(data, max_bytes=max_bytes)
    if root.tag == NS + "edXML":
        check_schema(root, "edxml")
        for payload in root.iter(NS + "ContentTransferEncoded"):
            decode_payload(payload.text or "", element_path(payload))
        return "edxml"
    if root.tag == NS + "edXMLEnvelope":
        check_schema(root, "status")
        return "status"
    raise EnvelopeError("phần tử gốc không phải gói tin edXML hay thông báo trạng thái QCVN 102:2016")
