"""Field names as a clerk reads them, and the value formats of the axis (dates, timestamps, identifiers)."""

from __future__ import annotations

import datetime as dt
import re

from app.core.clock import VN_TZ
from app.core.text import nfc

from .errors import EnvelopeError

DATE_FORMAT = "%Y/%m/%d"
TIMESTAMP_FORMAT = "%Y/%m/%d %H:%M:%S"

# QĐ 20/2020/QĐ-TTg: DDD.DD.DD.Lnn (13 characters); the letter is level 1 (H province, G ministry, …).
ORGAN_ID = re.compile(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}")
DOCUMENT_ID = re.compile(
    r"(?P<organ>[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}),(?P<date>[0-9]{4}/[0-9]{2}/[0-9]{2}),"
    r"(?P<number>[0-9A-Za-z]{1,11})/(?P<notation>[^\W_](?:[^\W_]|[-/.&]){0,29})"
)

LABELS: dict[str, str] = {
    "edXML": "gói tin",
    "edXMLEnvelope": "phong bì edXML",
    "edXMLHeader": "phần đầu gói tin",
    "edXMLBody": "phần thân gói tin",
    "edXMLManifest": "danh mục tệp đính kèm",
    "MessageHeader": "thông tin văn bản",
    "From": "cơ quan gửi",
    "To": "cơ quan nhận",
    "OrganId": "mã định danh cơ quan",
    "OrganizationInCharge": "cơ quan chủ quản",
    "OrganName": "tên cơ quan",
    "OrganAdd": "địa chỉ cơ quan",
    "Email": "thư điện tử",
    "Telephone": "số điện thoại",
    "Fax": "số fax",
    "Website": "trang thông tin điện tử",
    "Code": "số, ký hiệu văn bản",
    "CodeNumber": "số văn bản",
    "CodeNotation": "ký hiệu văn bản",
    "PromulgationInfo": "thông tin ban hành",
    "Place": "địa danh",
    "PromulgationDate": "ngày ban hành",
    "DocumentType": "loại văn bản",
    "Type": "mã loại văn bản",
    "TypeDetail": "mã chi tiết loại văn bản",
    "TypeName": "tên loại văn bản",
    "Subject": "trích yếu",
    "Content": "nội dung",
    "SignerInfo": "người ký",
    "Competence": "thẩm quyền ký",
    "Position": "chức vụ người ký",
    "FullName": "họ tên người ký",
    "DueDate": "hạn xử lý",
    "ToPlaces": "nơi nhận",
    "OtherInfo": "thông tin khác",
    "Priority": "độ khẩn",
    "SphereOfPromulgation": "phạm vi ban hành",
    "TyperNotation": "ký hiệu người đánh máy",
    "PromulgationAmount": "số lượng bản phát hành",
    "PageAmount": "số trang",
    "Appendixes": "danh sách phụ lục",
    "Appendix": "phụ lục",
    "Direction": "chỉ đạo",
    "Secret": "độ mật",
    "ContactInfo": "thông tin liên hệ",
    "ResponseFor": "văn bản được phản hồi",
    "SteeringType": "loại chỉ đạo",
    "DocumentId": "mã văn bản (DocumentId)",
    "TraceHeaderList": "vết xử lý",
    "TraceHeader": "vết xử lý",
    "Timestamp": "thời điểm",
    "Bussiness": "thông tin nghiệp vụ",
    "BussinessDocType": "loại nghiệp vụ văn bản",
    "BussinessDocReason": "lý do nghiệp vụ",
    "BussinessDocumentInfo": "thông tin cập nhật văn bản",
    "DocumentInfo": "cập nhật thông tin văn bản",
    "DocumentReceiver": "cập nhật nơi nhận",
    "ReceiverList": "danh sách nơi nhận",
    "Receiver": "nơi nhận",
    "ReceiverType": "loại nơi nhận",
    "StaffInfo": "cán bộ xử lý",
    "Department": "phòng ban",
    "Staff": "cán bộ",
    "Mobile": "số điện thoại di động",
    "ReplacementInfoList": "danh sách văn bản bị thay thế",
    "ReplacementInfo": "văn bản bị thay thế",
    "OrganIdList": "danh sách mã định danh",
    "Paper": "gửi kèm bản giấy",
    "Signature": "chữ ký số của gói tin",
    "Reference": "tệp trong danh mục",
    "AttachmentEncoded": "tệp đính kèm",
    "Attachment": "tệp đính kèm",
    "ContentId": "mã tệp đính kèm",
    "ContentType": "kiểu tệp",
    "AttachmentName": "tên tệp",
    "Description": "mô tả",
    "ContentTransferEncoded": "nội dung tệp (base64)",
    "Status": "thông báo trạng thái",
    "StatusCode": "mã trạng thái",
    "href": "liên kết tệp (xlink:href)",
}


def label_of(path: str) -> str:
    """The Vietnamese name of the last element of ``path`` ("MessageHeader/To[2]/OrganId")."""
    last = path.rsplit("/", 1)[-1].split("[", 1)[0].lstrip("@").split(":")[-1]
    return LABELS.get(last, last)


def refuse(path: str, reason: str, value: object = None) -> EnvelopeError:
    shown = "" if value is None else f" «{_shorten(str(value))}»"
    return EnvelopeError(
        f"{shown.strip()} {reason}".strip() if shown else reason,
        field=path,
        label=label_of(path),
        log=f"{reason} (value {value!r:.200})" if value is not None else reason,
    )


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_date(day: dt.date) -> str:
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


def parse_date(text: str, path: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, DATE_FORMAT).date()
    except ValueError:
        raise refuse(path, "không phải ngày có thật (định dạng YYYY/MM/DD)", text) from None


def local_naive(moment: dt.datetime) -> dt.datetime:
    """Vietnam wall-clock time without tzinfo, as the axis writes timestamps."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(VN_TZ).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def format_timestamp(moment: dt.datetime) -> str:
    m = local_naive(moment)
    return f"{m.year:04d}/{m.month:02d}/{m.day:02d} {m.hour:02d}:{m.minute:02d}:{m.second:02d}"


def parse_timestamp(text: str, path: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, TIMESTAMP_FORMAT)
    except ValueError:
        raise refuse(path, "không phải thời điểm có thật (định dạng yyyy/MM/dd HH:mm:ss)", text) from None


def check_organ_id(value: str, path: str) -> str:
    if not ORGAN_ID.fullmatch(value):
        raise refuse(path, "không đúng định dạng mã định danh của QĐ 20/2020/QĐ-TTg (ví dụ 000.00.00.H61)", value)
    return value


def check_document_id(value: str, path: str) -> str:
    """DocumentId "<OrganId>,<YYYY/MM/DD>,<number>/<notation>" with a real date."""
    match = DOCUMENT_ID.fullmatch(value)
    if not match:
        raise refuse(
            path,
            "không đúng định dạng «mã định danh,YYYY/MM/DD,số/ký hiệu» (ví dụ 000.00.00.H61,2026/12/03,15/QĐ-UBND)",
            value,
        )
    parse_date(match["date"], path)
    return value


def document_id_for(organ_id: str, day: dt.date, number: str, notation: str) -> str:
    """The DocumentId the sender gives an issued document; globally unique on the axis."""
    return f"{organ_id},{format_date(day)},{number}/{nfc(notation)}"


def document_id_organ(document_id: str) -> str:
    return document_id.split(",", 1)[0]
