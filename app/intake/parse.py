"""A raw message (RFC 5322 / MIME) as plain values: sender, subject, dates and the attached files.

The parser is lenient by design; what it reports as structural defects (a multipart without its boundary, base64
that does not decode) makes the message "malformed" here: better refused with a reason than stored half-read.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from email import errors as mail_errors
from email.message import EmailMessage

from app.core.text import nfc

from .errors import MailRefused

_STRUCTURAL = (mail_errors.StartBoundaryNotFoundDefect, mail_errors.CloseBoundaryNotFoundDefect,
               mail_errors.MultipartInvariantViolationDefect, mail_errors.NoBoundaryInMultipartDefect,
               mail_errors.InvalidBase64CharactersDefect, mail_errors.InvalidBase64PaddingDefect,
               mail_errors.InvalidBase64LengthDefect, mail_errors.MissingHeaderBodySeparatorDefect)
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|tl|tr|chuyển tiếp|trả lời)\s*:\s*)+", re.I)
MAX_PARTS = 200


@dataclass(frozen=True)
class MailFileInfo:
    filename: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class ParsedMailInfo:
    key: str  # Message-ID, else the digest of the whole message
    sender_name: str
    sender_address: str
    subject: str
    sent_at: dt.datetime | None
    files: tuple[MailFileInfo, ...]

    @property
    def sender(self) -> str:
        if self.sender_name and self.sender_address:
            return f"{self.sender_name} <{self.sender_address}>"
        return self.sender_name or self.sender_address


def message_key(message_id: str | None, raw: bytes) -> str:
    cleaned = (message_id or "").strip().strip("<>").strip()
    if cleaned and len(cleaned) <= 240 and " " not in cleaned:
        return cleaned
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def summary_of(subject: str) -> str:
    """The subject as a prefilled trích yếu: without "Re:", "Fwd:" …"""
    return " ".join(_REPLY_PREFIX.sub("", nfc(subject)).split())


def headers_only(raw_headers: bytes) -> tuple[str, str, str]:
    """(Message-ID, sender, subject) from the headers of a message too large to download."""
    msg = email.message_from_bytes(raw_headers, policy=email.policy.default)
    return str(msg.get("Message-ID") or ""), nfc(str(msg.get("From") or "")), nfc(str(msg.get("Subject") or ""))


def _header(msg: EmailMessage, name: str) -> str:
    try:
        return nfc(str(msg.get(name) or ""))
    except (ValueError, TypeError, IndexError):
        raise MailRefused("Thư có tiêu đề (header) sai định dạng MIME, không đọc được.",
                          log_detail=f"bad header {name}") from None


def parse_message(raw: bytes) -> ParsedMailInfo:
    """Read the message; raise MailRefused (in Vietnamese) when it is malformed."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    except (ValueError, TypeError, IndexError, LookupError) as exc:
        raise MailRefused("Thư sai định dạng MIME, không đọc được.", log_detail=f"parser: {exc!r}") from None
    assert isinstance(msg, EmailMessage)
    if not msg.keys():
        raise MailRefused("Thư không có phần tiêu đề (người gửi, chủ đề), không phải thư điện tử hợp lệ.")
    sender_name, sender_address = email.utils.parseaddr(_header(msg, "From"))
    subject = _header(msg, "Subject")
    sent_at = None
    date = _header(msg, "Date")
    if date:
        try:
            sent_at = email.utils.parsedate_to_datetime(date)
        except (TypeError, ValueError):
            sent_at = None
        if sent_at is not None and sent_at.tzinfo is None:
            sent_at = sent_at.replace(tzinfo=dt.UTC)
    files: list[MailFileInfo] = []
    parts = 0
    for part in msg.walk():
        parts += 1
        if parts > MAX_PARTS:
            raise MailRefused(f"Thư có hơn {MAX_PARTS} phần MIME; hệ thống không nhận thư này.")
        defects = [d for d in part.defects if isinstance(d, _STRUCTURAL)]
        if defects:
            raise MailRefused("Thư sai định dạng MIME (ranh giới các phần hoặc mã hóa base64 bị hỏng), không đọc "
                              "được đầy đủ tệp đính kèm.", log_detail=f"MIME defects {defects!r}")
        if part.is_multipart():
            continue
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if disposition != "attachment" and not filename:
            continue  # the text of the message itself
        try:
            data = part.get_payload(decode=True)
        except (ValueError, TypeError, LookupError) as exc:
            raise MailRefused("Tệp đính kèm của thư bị mã hóa sai, không đọc được.",
                              log_detail=f"payload: {exc!r}") from None
        if not isinstance(data, bytes):
            data = bytes(str(part.get_payload()), "utf-8")
        files.append(MailFileInfo(nfc(filename or "tep_dinh_kem"), data))
    return ParsedMailInfo(key=message_key(_header(msg, "Message-ID"), raw), sender_name=nfc(sender_name),
                          sender_address=sender_address.strip().lower(), subject=subject, sent_at=sent_at,
                          files=tuple(files))
