"""edXML (QCVN 102:2016) packages and status messages for the document axis. Pure: lxml, no Flask, no database.

    build_envelope(EnvelopeInfo) -> bytes        parse_envelope(bytes) -> EnvelopeInfo
    build_status(StatusInfo) -> bytes            parse_status(bytes) -> StatusInfo
    validate(bytes)                              XSD check of either (xsd/edxml.xsd, xsd/status.xsd)
    rejection_status(error, bytes, …)            the status 02 answer to a refused package

Everything refused raises EnvelopeError (a ValidationError) with a Vietnamese message naming the field.
"""

from .envelope import build_envelope, parse_envelope
from .errors import EnvelopeError, EnvelopeTooLargeError
from .fields import document_id_for
from .model import (
    NAMESPACE,
    PRIORITY_LABELS,
    STATUS_LABELS,
    AttachmentInfo,
    BusinessDocType,
    BusinessDocumentInfo,
    BusinessInfo,
    CodeInfo,
    DocumentTypeInfo,
    EnvelopeInfo,
    MessageHeaderInfo,
    OrganInfo,
    OtherInfo,
    PromulgationInfo,
    ReceiverInfo,
    ReplacementInfo,
    ResponseForInfo,
    SignerInfo,
    StaffInfo,
    StatusCode,
    StatusInfo,
    TraceHeaderInfo,
    TraceHeaderListInfo,
)
from .status import STATUS_MAX_BYTES, build_status, parse_status, rejection_status, salvage_response_for
from .validate import validate
from .xmlio import DEFAULT_MAX_BYTES

__all__ = [
    "DEFAULT_MAX_BYTES",
    "NAMESPACE",
    "PRIORITY_LABELS",
    "STATUS_LABELS",
    "STATUS_MAX_BYTES",
    "AttachmentInfo",
    "BusinessDocType",
    "BusinessDocumentInfo",
    "BusinessInfo",
    "CodeInfo",
    "DocumentTypeInfo",
    "EnvelopeError",
    "EnvelopeInfo",
    "EnvelopeTooLargeError",
    "MessageHeaderInfo",
    "OrganInfo",
    "OtherInfo",
    "PromulgationInfo",
    "ReceiverInfo",
    "ReplacementInfo",
    "ResponseForInfo",
    "SignerInfo",
    "StaffInfo",
    "StatusCode",
    "StatusInfo",
    "TraceHeaderInfo",
    "TraceHeaderListInfo",
    "build_envelope",
    "build_status",
    "document_id_for",
    "parse_envelope",
    "parse_status",
    "rejection_status",
    "salvage_response_for",
    "validate",
]
