"""Mail intake: which mailboxes are due, a lease per mailbox, and what becomes of each message.

The job (app.jobs.bodies.poll_mailbox) drives one mailbox: ``claim_mailbox`` (commit) → ``access_of`` →
for each unseen message ``take_message`` (commit) then ``ImapMailbox.settle`` → ``release_mailbox`` (commit).
A message is recorded under its key (Message-ID) before it is moved, so a crash between the two only leaves a
message that the next run recognises and moves without importing it again. Two workers never read one mailbox
at the same time (the lease), and the unique key stops a second import even if they did.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets as pysecrets
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from app.core import clock, signals
from app.core.text import nfc
from app.documents.attachments import UploadInfo
from app.documents.errors import AttachmentRefusedError
from app.documents.mailed import MailedDocumentInfo, receive_email
from app.documents.settings import setting
from app.extensions import db
from app.notifications import services as notices
from app.notifications.tasks import recipients

from . import secrets
from .errors import MailboxSettingsError, MailRefused
from .imap import FetchedMessageInfo, MailboxAccessInfo, check_connection
from .models import SECURITY, Mailbox, MailMessage
from .parse import headers_only, message_key, parse_message, summary_of

log = logging.getLogger("qlvb.intake")

LEASE_SECONDS = 600
BATCH = 50  # messages per run and mailbox; the rest wait for the next run


@dataclass(frozen=True)
class TakenResult:
    uid: str
    result: str  # accepted | refused | known (recorded before: only moved)
    document_id: int | None = None
    reason: str | None = None


def max_message_bytes() -> int:
    return int(setting("QLVB_MAIL_INTAKE_MAX_MB") or 25) * 1024 * 1024


def due_mailbox_ids() -> list[int]:
    """Active mailboxes whose lease is free: one job each."""
    now = clock.now()
    return list(db.session.scalars(
        select(Mailbox.id).where(Mailbox.active.is_(True),
                                 or_(Mailbox.lease_until.is_(None), Mailbox.lease_until < now))
        .order_by(Mailbox.id)))


def claim_mailbox(mailbox_id: int) -> str | None:
    """Take the mailbox's lease (compare-and-set, every database); None if another worker holds it."""
    now = clock.now()
    token = pysecrets.token_hex(16)
    done = db.session.execute(
        update(Mailbox).where(Mailbox.id == mailbox_id, Mailbox.active.is_(True),
                              or_(Mailbox.lease_until.is_(None), Mailbox.lease_until < now))
        .values(lease_owner=token, lease_until=now + dt.timedelta(seconds=LEASE_SECONDS))
        .execution_options(synchronize_session=False))
    return token if done.rowcount == 1 else None


def release_mailbox(mailbox_id: int, token: str, *, error: str | None = None) -> None:
    db.session.execute(
        update(Mailbox).where(Mailbox.id == mailbox_id, Mailbox.lease_owner == token)
        .values(lease_owner=None, lease_until=None, last_polled_at=clock.now(), last_error=error)
        .execution_options(synchronize_session=False))


def access_of(mailbox_id: int) -> MailboxAccessInfo:
    box = db.session.get(Mailbox, mailbox_id)
    if box is None:
        raise MailboxSettingsError("Không tìm thấy hộp thư.")
    return MailboxAccessInfo(host=box.host, port=box.port, security=box.security, username=box.username,
                             password=secrets.password_of(box.password_sealed, box.password_ref),
                             folder=box.folder, processed_folder=box.processed_folder)


def validate_settings(box: Mailbox, *, new_password: str | None) -> None:
    """Check what the admin entered and seal a new password (the form never keeps it in clear)."""
    box.host = (box.host or "").strip()
    box.username = (box.username or "").strip()
    box.name = nfc((box.name or "").strip())
    box.folder = nfc((box.folder or "").strip()) or "INBOX"
    box.processed_folder = nfc((box.processed_folder or "").strip()) or "Đã nhận vào QLVB"
    errors: dict[str, list[str]] = {}
    if box.security not in SECURITY:
        errors["security"] = ["Chế độ bảo mật không hợp lệ."]
    if not box.port or not 0 < int(box.port) < 65536:
        errors["port"] = ["Cổng phải từ 1 đến 65535."]
    if box.folder == box.processed_folder:
        errors["processed_folder"] = ["Thư mục đã xử lý phải khác thư mục nhận thư."]
    if errors:
        raise MailboxSettingsError("Thiết lập hộp thư chưa hợp lệ: " + next(iter(errors.values()))[0],
                                   field_errors=errors)
    box.password_ref = secrets.check_reference(box.password_ref) if (box.password_ref or "").strip() else None
    if new_password:
        box.password_sealed = secrets.seal(new_password)
    if not box.password_ref and not box.password_sealed:
        raise MailboxSettingsError("Hãy nhập mật khẩu hộp thư hoặc tên biến môi trường chứa mật khẩu.",
                                   field_errors={"password": ["Bắt buộc."]})


def test_mailbox(mailbox_id: int, agency_id: int) -> int:
    """"Kiểm tra kết nối": log in and open the folders; the number of unseen messages waiting."""
    box = db.session.get(Mailbox, mailbox_id)
    if box is None or box.agency_id != agency_id:
        raise MailboxSettingsError("Không tìm thấy hộp thư.")
    return check_connection(access_of(mailbox_id))


def _known(agency_id: int, key: str) -> MailMessage | None:
    return db.session.scalar(select(MailMessage).where(MailMessage.agency_id == agency_id,
                                                       MailMessage.message_key == key))


def _notify_refused(box: Mailbox, record: MailMessage) -> None:
    users = set(recipients(box.agency_id, candidate_user_id=None, candidate_role="clerk",
                           candidate_department_id=None))
    users |= set(recipients(box.agency_id, candidate_user_id=None, candidate_role="agency_admin",
                            candidate_department_id=None))
    who = record.sender or "không rõ người gửi"
    notices.notify(users, agency_id=box.agency_id, kind="mail_refused",
                   title=f"Không nhận được thư điện tử của {who}"[:255],
                   body=f"Thư “{record.subject or '(không có tiêu đề)'}” gửi đến hộp thư {box.name}: "
                        f"{record.reason}", dedupe_key=f"mail:{record.id}")


def take_message(mailbox_id: int, fetched: FetchedMessageInfo) -> TakenResult:
    """Turn one fetched message into a document awaiting registration, or record why not. Flushes only."""
    box = db.session.get(Mailbox, mailbox_id)
    assert box is not None
    limit = max_message_bytes()
    if fetched.raw is None:
        mid, sender, subject = headers_only(fetched.headers)
        key = message_key(mid, fetched.headers + fetched.uid.encode())
        info = None
        refusal: str | None = (f"Thư có dung lượng {fetched.size / 1048576:.1f} MB, vượt giới hạn "
                               f"{limit // 1048576} MB của một thư nhận vào hệ thống.")
        log_detail = f"message of {fetched.size} bytes over {limit}"
    else:
        info = None
        refusal = log_detail = None
        try:
            info = parse_message(fetched.raw)
        except MailRefused as exc:
            refusal, log_detail = exc.reason, exc.log_detail
        if info is not None:
            key, sender, subject = info.key, info.sender, info.subject
            if not info.files:
                refusal = ("Thư không có tệp đính kèm nào; văn bản đến qua thư điện tử phải được đính kèm "
                           "(PDF, DOCX, ODT, XLSX, PNG, JPEG, TXT).")
        else:
            mid, sender, subject = headers_only(fetched.raw.split(b"\r\n\r\n", 1)[0])
            key = message_key(mid, fetched.raw)
    earlier = _known(box.agency_id, key)
    if earlier is not None:
        log.info("mailbox %s: message %s already taken (%s), moved again", box.id, key, earlier.result)
        return TakenResult(fetched.uid, "known", earlier.document_id, earlier.reason)
    received = fetched.internal_date or (info.sent_at if info else None) or clock.now()
    document_id = None
    if refusal is None and info is not None:
        savepoint = db.session.begin_nested()
        try:
            document_id = receive_email(box.agency_id, MailedDocumentInfo(
                sender_name=info.sender_name, sender_address=info.sender_address, subject=summary_of(info.subject),
                received_at=received, raw=fetched.raw or b"",
                files=tuple(UploadInfo(f.filename, f.data) for f in info.files)))
            savepoint.commit()
        except AttachmentRefusedError as exc:
            savepoint.rollback()
            refusal, log_detail = exc.message, exc.log
    record = MailMessage(agency_id=box.agency_id, mailbox_id=box.id, message_key=key[:255],
                         sender=nfc(sender)[:255] or None, subject=nfc(subject) or None, received_at=received,
                         result="accepted" if refusal is None else "refused", reason=refusal,
                         document_id=document_id)
    db.session.add(record)
    db.session.flush()  # IntegrityError: another worker recorded it first (the job rolls this one back)
    if refusal is not None:
        log.warning("mailbox %s (agency %s): message %s from %s refused: %s", box.id, box.agency_id, key, sender,
                    log_detail)
        _notify_refused(box, record)
    signals.audit.send(kind="mail_received" if refusal is None else "mail_refused", agency_id=box.agency_id,
                       user_id=None, username="mail-intake", target_type="document" if document_id else "mail",
                       target_id=document_id or record.id, message=(subject or "")[:200] or None,
                       detail={"mailbox": box.id, "message": key[:255], **({"reason": refusal} if refusal else {})})
    return TakenResult(fetched.uid, record.result, document_id, refusal)
