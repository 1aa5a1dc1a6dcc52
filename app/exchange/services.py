"""Starting threads, replying, reading. Services flush; the request commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select, update

from app.core import clock
from app.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from app.core.text import nfc
from app.documents.attachments import UploadInfo, check_file
from app.documents.models import Document
from app.documents.settings import max_upload_bytes
from app.documents.storage import default_storage
from app.extensions import db
from app.notifications import services as notifications
from app.tenancy.models import Staff
from app.workflow.info import ActorRef
from app.workflow.models import HumanTask

from .info import FileInput, MessageInfo
from .models import ExchangeFile, ExchangeMessage, ExchangeParticipant, ExchangeThread

MAX_BODY = 20_000
MAX_FILES = 10
SUBJECT_TYPES = ("incoming", "outgoing", "task")
SUBJECT_LABELS = {"incoming": "Văn bản đến", "outgoing": "Văn bản đi", "task": "Công việc"}


def thread_link(thread_id: int) -> str:
    return f"/exchange/{thread_id}"


def _active_colleagues(agency_id: int, user_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = db.session.execute(select(Staff.user_id, Staff.full_name).where(
        Staff.user_id.in_(ids), Staff.agency_id == agency_id, Staff.active.is_(True)))
    return {r.user_id: r.full_name for r in rows}


def _check_subject(agency_id: int, subject_type: str | None, subject_id: int | None) -> None:
    if subject_type is None and subject_id is None:
        return
    if subject_type not in SUBJECT_TYPES or subject_id is None:
        raise ValidationError("Đối tượng trao đổi không hợp lệ")
    if subject_type == "task":
        owner = db.session.scalar(select(HumanTask.agency_id).where(HumanTask.id == subject_id))
    else:
        owner = db.session.scalar(select(Document.agency_id).where(
            Document.id == subject_id, Document.direction == subject_type))
    if owner != agency_id:
        raise NotFoundError(f"Không tìm thấy {SUBJECT_LABELS[subject_type].lower()} cần trao đổi")


def _body(text: str) -> str:
    body = nfc(text.strip())
    if not body:
        raise ValidationError("Nhập nội dung trao đổi", field_errors={"body": ["Nhập nội dung trao đổi"]})
    if len(body) > MAX_BODY:
        raise ValidationError(f"Nội dung dài quá {MAX_BODY} ký tự", field_errors={"body": ["Nội dung quá dài"]})
    return body


def _store_files(message: ExchangeMessage, files: Sequence[FileInput]) -> list[ExchangeFile]:
    if len(files) > MAX_FILES:
        raise ValidationError(f"Mỗi tin nhắn đính kèm tối đa {MAX_FILES} tệp")
    limit = max_upload_bytes()
    checked = [(check_file(UploadInfo(f.filename, f.data), max_bytes=limit), f.data) for f in files]
    storage = default_storage()
    rows = []
    for info, data in checked:
        rows.append(ExchangeFile(message_id=message.id, filename=info.filename, content_type=info.content_type,
                                 size=info.size, sha256=info.sha256, storage_key=storage.put(data)))
    db.session.add_all(rows)
    return rows


def _post(thread: ExchangeThread, actor: ActorRef, body: str, files: Sequence[FileInput]) -> ExchangeMessage:
    now = clock.now()
    message = ExchangeMessage(thread_id=thread.id, author_id=actor.user_id, body=body, created_at=now)
    db.session.add(message)
    db.session.flush()
    _store_files(message, files)
    thread.last_message_at = now
    db.session.execute(update(ExchangeParticipant).where(
        ExchangeParticipant.thread_id == thread.id, ExchangeParticipant.user_id == actor.user_id
    ).values(last_read_message_id=message.id))
    return message


def start_thread(actor: ActorRef, *, title: str, body: str, participant_user_ids: Iterable[int],
                 subject_type: str | None = None, subject_id: int | None = None,
                 files: Sequence[FileInput] = ()) -> int:
    """Open a thread with colleagues of the same agency; return its id."""
    clean_title = nfc(title.strip())[:255]
    if not clean_title:
        raise ValidationError("Nhập tiêu đề trao đổi", field_errors={"title": ["Nhập tiêu đề trao đổi"]})
    text = _body(body)
    wanted = set(participant_user_ids) - {actor.user_id}
    people = _active_colleagues(actor.agency_id, wanted)
    if not wanted:
        raise ValidationError("Chọn ít nhất một người nhận", field_errors={"participants": ["Chọn người nhận"]})
    if set(wanted) - set(people):
        raise ValidationError("Người nhận phải là cán bộ đang làm việc tại cơ quan",
                              field_errors={"participants": ["Có người nhận không thuộc cơ quan"]})
    _check_subject(actor.agency_id, subject_type, subject_id)
    now = clock.now()
    thread = ExchangeThread(agency_id=actor.agency_id, title=clean_title, subject_type=subject_type,
                            subject_id=subject_id, created_by_id=actor.user_id, created_at=now, last_message_at=now)
    db.session.add(thread)
    db.session.flush()
    db.session.add_all([ExchangeParticipant(thread_id=thread.id, user_id=u, last_read_message_id=0, joined_at=now)
                        for u in sorted(wanted | {actor.user_id})])
    db.session.flush()
    _post(thread, actor, text, files)
    author = _active_colleagues(actor.agency_id, [actor.user_id]).get(actor.user_id, "Một cán bộ")
    notifications.notify(wanted, agency_id=actor.agency_id, kind="exchange_reply",
                         title=f"Trao đổi mới: {clean_title}", body=f"{author}: {_excerpt(text)}",
                         link=thread_link(thread.id))
    db.session.flush()
    return thread.id


def _excerpt(text: str, size: int = 200) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= size else one_line[: size - 1] + "…"


def load_thread_for(actor: ActorRef, thread_id: int, *, lock: bool = False) -> ExchangeThread:
    """The thread if the actor takes part in it; otherwise it does not exist for them."""
    query = select(ExchangeThread).where(ExchangeThread.id == thread_id)
    if lock:
        query = query.with_for_update()
    thread = db.session.scalar(query)
    member = db.session.scalar(select(ExchangeParticipant.user_id).where(
        ExchangeParticipant.thread_id == thread_id, ExchangeParticipant.user_id == actor.user_id))
    if thread is None or thread.agency_id != actor.agency_id or member is None:
        raise NotFoundError("Không tìm thấy nội dung trao đổi")
    return thread


def reply(actor: ActorRef, thread_id: int, body: str, files: Sequence[FileInput] = ()) -> MessageInfo:
    thread = load_thread_for(actor, thread_id, lock=True)
    text = _body(body)
    message = _post(thread, actor, text, files)
    others = set(db.session.scalars(select(ExchangeParticipant.user_id).where(
        ExchangeParticipant.thread_id == thread.id))) - {actor.user_id}
    author = _active_colleagues(actor.agency_id, [actor.user_id]).get(actor.user_id, "Một cán bộ")
    notifications.notify(others, agency_id=actor.agency_id, kind="exchange_reply",
                         title=f"Trả lời: {thread.title}", body=f"{author}: {_excerpt(text)}",
                         link=thread_link(thread.id) + f"#m{message.id}")
    db.session.flush()
    return MessageInfo(message.id, thread.id, actor.user_id, author, text, message.created_at)


def add_participants(actor: ActorRef, thread_id: int, user_ids: Iterable[int]) -> int:
    thread = load_thread_for(actor, thread_id)
    if thread.created_by_id != actor.user_id:
        raise PermissionDeniedError("Chỉ người tạo trao đổi được mời thêm người")
    people = _active_colleagues(actor.agency_id, user_ids)
    present = set(db.session.scalars(select(ExchangeParticipant.user_id).where(
        ExchangeParticipant.thread_id == thread_id)))
    new = sorted(set(people) - present)
    db.session.add_all([ExchangeParticipant(thread_id=thread_id, user_id=u, last_read_message_id=0,
                                            joined_at=clock.now()) for u in new])
    notifications.notify(new, agency_id=actor.agency_id, kind="exchange_reply",
                         title=f"Bạn được mời tham gia trao đổi: {thread.title}", link=thread_link(thread_id))
    db.session.flush()
    return len(new)


def mark_read(actor: ActorRef, thread_id: int) -> None:
    load_thread_for(actor, thread_id)
    last = db.session.scalar(select(ExchangeMessage.id).where(ExchangeMessage.thread_id == thread_id)
                             .order_by(ExchangeMessage.id.desc()).limit(1)) or 0
    db.session.execute(update(ExchangeParticipant).where(
        ExchangeParticipant.thread_id == thread_id, ExchangeParticipant.user_id == actor.user_id,
        ExchangeParticipant.last_read_message_id < last,
    ).values(last_read_message_id=last))
