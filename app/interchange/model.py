"""What an edXML package says, as frozen dataclasses; nothing typed by lxml leaves app.interchange.

Names follow the standard's elements (shared/reference/vietnam-document-rules.md §2): ``OrganInfo`` is From/To,
``CodeInfo`` is Code, and so on. Dates are ``datetime.date``; timestamps naive ``datetime.datetime`` in Vietnam
time, as the axis writes them (``yyyy/MM/dd HH:mm:ss``).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

NAMESPACE = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
XLINK_NAMESPACE = "http://www.w3.org/1999/xlink"
SOAP_ACTOR_NEXT = "http://schemas.xmlsoap.org/soap/actor/next"


class StatusCode(enum.StrEnum):
    """Status of a delivered document at the receiver, with its Vietnamese meaning (``label``)."""

    ARRIVED = "01"
    REJECTED = "02"
    REGISTERED = "03"
    ASSIGNED = "04"
    PROCESSING = "05"
    COMPLETED = "06"
    TAKE_BACK_REQUESTED = "13"
    TAKE_BACK_AGREED = "15"
    TAKE_BACK_REFUSED = "16"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: dict[StatusCode, str] = {
    StatusCode.ARRIVED: "Đã đến",
    StatusCode.REJECTED: "Từ chối tiếp nhận",
    StatusCode.REGISTERED: "Đã tiếp nhận, vào sổ",
    StatusCode.ASSIGNED: "Phân công xử lý",
    StatusCode.PROCESSING: "Đang xử lý",
    StatusCode.COMPLETED: "Hoàn thành",
    StatusCode.TAKE_BACK_REQUESTED: "Yêu cầu lấy lại",
    StatusCode.TAKE_BACK_AGREED: "Đồng ý lấy lại, cập nhật",
    StatusCode.TAKE_BACK_REFUSED: "Từ chối lấy lại, cập nhật",
}


class BusinessDocType(enum.IntEnum):
    """BussinessDocType: what the package does to the document."""

    NEW = 0
    RECALL = 1
    UPDATE = 2
    REPLACE = 3

    @property
    def label(self) -> str:
        return {0: "Văn bản mới", 1: "Thu hồi", 2: "Cập nhật", 3: "Thay thế"}[self.value]


# Độ khẩn as most implementations use it; the standard's own table was not seen.
PRIORITY_LABELS = {0: "Thường", 1: "Khẩn", 2: "Thượng khẩn", 3: "Hỏa tốc", 4: "Hỏa tốc hẹn giờ"}


@dataclass(frozen=True)
class OrganInfo:
    """From / To (1.1, 1.2): an agency by its mã định danh and how to reach it."""

    organ_id: str
    organ_name: str = ""
    organization_in_charge: str = ""
    organ_add: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""


@dataclass(frozen=True)
class CodeInfo:
    """Số và ký hiệu: CodeNumber "123", CodeNotation "QĐ-UBND"."""

    number: str
    notation: str

    def __str__(self) -> str:
        return f"{self.number}/{self.notation}"


@dataclass(frozen=True)
class PromulgationInfo:
    date: dt.date
    place: str = ""


@dataclass(frozen=True)
class DocumentTypeInfo:
    """Type is the standard's numeric code; implementations disagree (Công văn is 1, 2 or 18), so the mapping
    from QLVB's document types belongs to the caller and should be agreed with the axis operator."""

    type_name: str
    type: int = 0
    type_detail: int | None = None


@dataclass(frozen=True)
class SignerInfo:
    full_name: str
    position: str = ""
    competence: str = ""


@dataclass(frozen=True)
class OtherInfo:
    priority: int | None = None
    sphere_of_promulgation: str = ""
    typer_notation: str = ""
    promulgation_amount: int | None = None
    page_amount: int | None = None
    appendixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResponseForInfo:
    """The document a reply or a status message answers (Code is "number/notation")."""

    organ_id: str
    code: str = ""
    promulgation_date: dt.date | None = None
    document_id: str = ""


@dataclass(frozen=True)
class MessageHeaderInfo:
    sender: OrganInfo
    recipients: tuple[OrganInfo, ...]
    code: CodeInfo
    promulgation: PromulgationInfo
    document_type: DocumentTypeInfo
    subject: str
    signer: SignerInfo
    document_id: str
    content: str = ""
    due_date: dt.date | None = None
    to_places: tuple[str, ...] = ()
    other: OtherInfo | None = None
    response_for: tuple[ResponseForInfo, ...] = ()
    steering_type: int | None = None


@dataclass(frozen=True)
class TraceHeaderInfo:
    organ_id: str
    timestamp: dt.datetime


@dataclass(frozen=True)
class StaffInfo:
    department: str = ""
    staff: str = ""
    mobile: str = ""
    email: str = ""


@dataclass(frozen=True)
class ReceiverInfo:
    organ_id: str
    receiver_type: int = 0


@dataclass(frozen=True)
class BusinessDocumentInfo:
    document_info: int | None = None
    document_receiver: int | None = None
    receivers: tuple[ReceiverInfo, ...] = ()


@dataclass(frozen=True)
class ReplacementInfo:
    document_id: str
    organ_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class BusinessInfo:
    """Bussiness (the standard's spelling): new, recall, update or replace, and who handles it."""

    doc_type: BusinessDocType = BusinessDocType.NEW
    doc_reason: str = ""
    document_info: BusinessDocumentInfo | None = None
    document_id: str = ""
    staff: StaffInfo | None = None
    replacements: tuple[ReplacementInfo, ...] = ()
    paper: int | None = 0


@dataclass(frozen=True)
class TraceHeaderListInfo:
    business: BusinessInfo = field(default_factory=BusinessInfo)
    traces: tuple[TraceHeaderInfo, ...] = ()


@dataclass(frozen=True)
class AttachmentInfo:
    """One file of the package: listed in the manifest, carried base64-encoded in AttachmentEncoded."""

    content_id: str
    name: str
    content_type: str
    content: bytes = field(repr=False)
    description: str = ""


@dataclass(frozen=True)
class EnvelopeInfo:
    """A whole edXML document package."""

    header: MessageHeaderInfo
    trace: TraceHeaderListInfo = field(default_factory=TraceHeaderListInfo)
    attachments: tuple[AttachmentInfo, ...] = ()


@dataclass(frozen=True)
class StatusInfo:
    """A status (feedback) message: what happened to ``response_for`` at ``sender``."""

    response_for: ResponseForInfo
    sender: OrganInfo
    code: StatusCode
    timestamp: dt.datetime
    description: str = ""
    staff: StaffInfo | None = None
