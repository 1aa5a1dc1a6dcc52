"""validate(data): the strict XSD check of a package or status message, as written (no reordering)."""

from __future__ import annotations

from .errors import EnvelopeError
from .xmlio import DEFAULT_MAX_BYTES, NS, check_schema, read_xml


def validate(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Check ``data`` against xsd/edxml.xsd or xsd/status.xsd (by its root); returns which, or raises EnvelopeError.

    Unlike parse_envelope this checks the schema's element order exactly and the base64 of every file, so it
    is what a peer's conformance test or our own output check uses.
    """
    root = read_xml(data, max_bytes=max_bytes)
    if root.tag == NS + "edXML":
        check_schema(root, "edxml")
        return "edxml"
    if root.tag == NS + "edXMLEnvelope":
        check_schema(root, "status")
        return "status"
    raise EnvelopeError("phần tử gốc không phải gói tin edXML hay thông báo trạng thái QCVN 102:2016")
