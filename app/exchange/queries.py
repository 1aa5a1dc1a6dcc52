"""Reading exchanges: my threads with unread counts, one thread, one file."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, func, select

from app.core.errors import NotFoundError
from app.documents.storage import BlobStream, default_storage, open_blob
from app.extensions import db
from app.tenancy.models import Staff
from app.workflow.info import ActorRef

from .info import FileInfo, MessageInfo, ThreadDetail, ThreadSummary
from .models import ExchangeFile, ExchangeMessage, ExchangeParticipant, ExchangeThread
from .services import load_thread_for

MAX_PAGE = 100


def _unread_clause(user_id: int) -> object:
    return and_(ExchangeMessage.thread_id == ExchangeParticipant.thread_id,
                ExchangeMessage.id > ExchangeParticipant.last_read_message_id,
                ExchangeMessage.author_id != user_id)


def unread_total(user_id: int, agency_id: int) -> int:
    return db.session.scalar(
        select(func.count(ExchangeMessage.id))
        .select_from(ExchangeParticipant)
        .join(ExchangeThread, ExchangeThread.id == ExchangeParticipant.thread_id)
        .join(ExchangeMessage, _unread_clause(user_id))  # type: ignore[arg-type]
        .where(ExchangeParticipant.user_id == user_id, ExchangeThread.agency_id == agency_id)
    ) or 0


def threads_for(actor: ActorRef, *, subject: tuple[str, int] | None = None, limit: int = 50,
                offset: int = 0) -> list[ThreadSummary]:
    """The actor's threads, latest activity first, each with its unread count."""
    query = (select(ExchangeThread).join(ExchangeParticipant, ExchangeParticipant.thread_id == ExchangeThread.id)
             .where(ExchangeParticipant.user_id == actor.user_id, ExchangeThread.agency_id == actor.agency_id))
    if subject is not None:
        query = query.where(ExchangeThread.subject_type == subject[0], ExchangeThread.subject_id == subject[1])
    threads = list(db.session.scalars(query.order_by(ExchangeThread.last_message_at.desc(), ExchangeThread.id.desc())
                                      .limit(max(1, min(limit, MAX_PAGE))).offset(max(0, offset))))
    ids = [t.id for t in threads]
    if not ids:
        return []
    unread = dict(db.session.execute(
        select(ExchangeParticipant.thread_id, func.count(ExchangeMessage.id))
        .join(ExchangeMessage, _unread_clause(actor.user_id))  # type: ignore[arg-type]
        .where(ExchangeParticipant.user_id == actor.user_id, ExchangeParticipant.thread_id.in_(ids))
        .group_by(ExchangeParticipant.thread_id)
    ).all())
    names: dict[int, list[str]] = defaultdict(list)
    for thread_id, name in db.session.execute(
        select(ExchangeParticipant.thread_id, Staff.full_name)
        .join(Staff, Staff.user_id == ExchangeParticipant.user_id)
        .where(ExchangeParticipant.thread_id.in_(ids), ExchangeParticipant.user_id != actor.user_id)
        .order_by(Staff.full_name)
    ):
        names[thread_id].append(name)
    return [ThreadSummary(t.id, t.title, t.subject_type, t.subject_id, t.last_message_at, int(unread.get(t.id, 0)),
                          tuple(names[t.id])) for t in threads]


def thread_detail(actor: ActorRef, thread_id: int) -> ThreadDetail:
    thread = load_thread_for(actor, thread_id)
    people = db.session.execute(
        select(ExchangeParticipant.user_id, Staff.full_name, ExchangeParticipant.last_read_message_id)
        .join(Staff, Staff.user_id == ExchangeParticipant.user_id)
        .where(ExchangeParticipant.thread_id == thread_id).order_by(Staff.full_name)
    ).all()
    names = {p.user_id: p.full_name for p in people}
    my_mark = next((p.last_read_message_id for p in people if p.user_id == actor.user_id), 0)
    messages = list(db.session.scalars(select(ExchangeMessage).where(ExchangeMessage.thread_id == thread_id)
                                       .order_by(ExchangeMessage.id)))
    files: dict[int, list[FileInfo]] = defaultdict(list)
    if messages:
        for f in db.session.scalars(select(ExchangeFile).where(
                ExchangeFile.message_id.in_([m.id for m in messages])).order_by(ExchangeFile.id)):
            files[f.message_id].append(FileInfo(f.id, f.message_id, f.filename, f.content_type, f.size))
    infos = tuple(MessageInfo(m.id, m.thread_id, m.author_id, names.get(m.author_id, "Cán bộ đã rời cơ quan"), m.body,
                              m.created_at, tuple(files[m.id])) for m in messages)
    first_unread = next((m.id for m in infos if m.id > my_mark and m.author_id != actor.user_id), None)
    return ThreadDetail(thread.id, thread.agency_id, thread.title, thread.subject_type, thread.subject_id,
                        thread.created_by_id, tuple((p.user_id, p.full_name) for p in people), infos, first_unread)


def _visible_file(actor: ActorRef, file_id: int) -> ExchangeFile:
    row = db.session.get(ExchangeFile, file_id)
    if row is None:
        raise NotFoundError("Không tìm thấy tệp")
    thread_id = db.session.scalar(select(ExchangeMessage.thread_id).where(ExchangeMessage.id == row.message_id))
    load_thread_for(actor, int(thread_id or 0))
    return row


def file_for(actor: ActorRef, file_id: int) -> tuple[FileInfo, bytes]:
    """A message file, only for participants of its thread."""
    row = _visible_file(actor, file_id)
    return (FileInfo(row.id, row.message_id, row.filename, row.content_type, row.size),
            default_storage().get(row.storage_key))


def file_stream_for(actor: ActorRef, file_id: int) -> tuple[FileInfo, BlobStream]:
    """A message file opened for streaming (downloads), only for participants of its thread."""
    row = _visible_file(actor, file_id)
    return (FileInfo(row.id, row.message_id, row.filename, row.content_type, row.size),
            open_blob(row.storage_key, ref=f"exchange_file {row.id}"))
