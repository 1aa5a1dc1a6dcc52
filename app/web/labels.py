"""Vietnamese labels for the documents' coded values, shared by the document and task pages."""

from app.documents.models import INCOMING_STATUSES, OUTGOING_STATUSES

URGENCY = {"thuong": "Thường", "khan": "Khẩn", "thuong_khan": "Thượng khẩn", "hoa_toc": "Hỏa tốc"}
CHANNEL = {"paper": "Bản giấy/bản quét", "electronic": "Văn bản điện tử", "email": "Thư điện tử", "other": "Khác"}
STATUS = {
    "awaiting_registration": "Chờ vào sổ", "registered": "Đã vào sổ", "assigned": "Đã phân công",
    "in_progress": "Đang xử lý", "done": "Đã xử lý xong", "draft": "Dự thảo", "in_review": "Đang xem xét",
    "approved": "Đã phê duyệt", "issued": "Đã ban hành", "delivered": "Đã gửi", "returned": "Bị trả lại",
    "withdrawn": "Đã bị nơi gửi thu hồi", "signed": "Đã ký số, chờ phát hành", "recalled": "Đã thu hồi",
}
ATTACHMENT_KIND = {
    "original": "tệp gốc", "appendix": "phụ lục", "scan": "bản quét", "preview": "bản xem trước (chưa có số)",
    "final": "bản chính thức (chưa ký)", "signed": "đã có chữ ký người có thẩm quyền",
    "sealed": "bản phát hành (đã ký số cơ quan)", "appendix_signed": "phụ lục đã ký số cơ quan",
    "rendered": "bản dựng PDF", "email": "thư điện tử gốc (.eml)",
}
# Where the same code means something else by direction: an incoming copy sent back to its sender, an
# outgoing draft sent back to its drafter.
STATUS_BY_DIRECTION = {("incoming", "returned"): "Đã trả lại nơi gửi", ("outgoing", "returned"): "Bị trả lại để sửa"}


def status_label(direction: str, status: str) -> str:
    return STATUS_BY_DIRECTION.get((direction, status)) or STATUS.get(status, "Không rõ")


def statuses_for(direction: str) -> dict[str, str]:
    """The statuses a document of this direction can have, labelled (withdrawn copies are never listed)."""
    codes = INCOMING_STATUSES if direction == "incoming" else OUTGOING_STATUSES
    return {code: status_label(direction, code) for code in codes if code != "withdrawn"}
