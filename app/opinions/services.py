"""Functions that change opinion requests; each changes the rows and completes the workflow step together.

They flush but never commit: the request (or job) commits once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select

from app.core import clock
from app.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from app.core.fields import date_field, text_field
from app.core.text import nfc
from app.extensions import db
from app.tenancy.models import Agency, Staff
from app.workflow import queries as wfq
from app.workflow import services as wf
from app.workflow.info import ActorRef, HumanTaskInfo
from app.workflow.operations import InstanceRef

from . import notices
from .files import UploadInfo, store_uploads
from .models import OpinionFile, OpinionRequest, OpinionReviewer
from .queries import ANSWERS, OpinionRequestInfo, is_external_reviewer, opinion_reminders_due, request_info

PROCESS_KEY = "opinion_request"
# The small process another agency runs to answer a copy (one step: answer).
ANSWER_PROCESS_KEY = "opinion_answer"
SUBJECT_TYPE = "opinion_request"
OPERATION = "opinions.request_external"
MAX_TITLE = 500
MAX_REVIEWERS = 100
FORM_MESSAGE = "Phiếu xin ý kiến chưa hợp lệ, vui lòng kiểm tra các trường được đánh dấu"


def _db_id(value: Any) -> int | None:
    """A positive id that fits the id columns (32-bit INTEGER on PostgreSQL), or None (absent, like a stranger's)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _staff(user_id: int) -> Staff | None:
    return db.session.scalar(select(Staff).where(Staff.user_id == user_id, Staff.active.is_(True)))


def _new_file(request: OpinionRequest, stored: Any, by_user_id: int, reviewer_id: int | None) -> OpinionFile:
    return OpinionFile(request_id=request.id, reviewer_id=reviewer_id, filename=stored.filename,
                       content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                       storage_key=stored.storage_key, uploaded_by_id=by_user_id, created_at=clock.now())


# -- asking --------------------------------------------------------------------------------
def create_opinion_request(
    actor: ActorRef,
    *,
    title: str,
    deadline: dt.date | str,
    content: str = "",
    reviewer_user_ids: Iterable[int] = (),
    external_reviewers: Iterable[tuple[str, int | None]] = (),
    files: Sequence[UploadInfo] = (),
) -> OpinionRequestInfo:
    """Ask people of the agency (``reviewer_user_ids``) and of other agencies (``(agency_code, user_id|None)``).

    Starts the ``opinion_request`` workflow, completes its first step, and sends the copies to other agencies.
    """
    errors: dict[str, list[str]] = {}
    title = text_field(title, "title", errors, max_length=MAX_TITLE, required=True)
    due = date_field(deadline, "deadline", errors, required=True)
    if due is not None and due < clock.today():
        errors["deadline"] = ["Hạn trả lời không được trước ngày hôm nay"]
    internal: list[int] = []
    for raw in reviewer_user_ids:
        uid = _db_id(raw)
        if uid is None:
            errors.setdefault("reviewer_user_ids", []).append("Giá trị không hợp lệ")
            continue
        staff = _staff(uid)
        if staff is None or staff.agency_id != actor.agency_id:
            errors.setdefault("reviewer_user_ids", []).append("Người được xin ý kiến không thuộc cơ quan")
        elif uid == actor.user_id:
            errors.setdefault("reviewer_user_ids", []).append("Không tự xin ý kiến chính mình")
        elif uid not in internal:
            internal.append(uid)
    external: list[tuple[int, int | None]] = []
    for code, raw_user in external_reviewers:
        agency = db.session.scalar(select(Agency).where(Agency.code == str(code), Agency.active.is_(True)))
        if agency is None or agency.id == actor.agency_id or agency.is_central:
            errors.setdefault("external_reviewers", []).append(f"Cơ quan «{code}» không nhận được xin ý kiến")
            continue
        user_id = None
        if raw_user not in (None, ""):
            # Only the people the form offers (the agency's leaders); one answer for absent and not theirs, so
            # the error never tells which user ids belong to which agency.
            uid = _db_id(raw_user)
            if uid is None or not is_external_reviewer(agency.id, uid):
                errors.setdefault("external_reviewers", []).append(
                    f"Không tìm thấy lãnh đạo được chọn của {agency.name}")
                continue
            user_id = uid
        if (agency.id, user_id) not in external:
            external.append((agency.id, user_id))
    if not internal and not external:
        errors.setdefault("reviewer_user_ids", []).append("Hãy chọn ít nhất một người hoặc cơ quan cho ý kiến")
    if len(internal) + len(external) > MAX_REVIEWERS:
        errors.setdefault("reviewer_user_ids", []).append(f"Tối đa {MAX_REVIEWERS} người, cơ quan được xin ý kiến")
    if errors:
        raise ValidationError(FORM_MESSAGE, field_errors=errors)
    assert due is not None

    request = OpinionRequest(agency_id=actor.agency_id, title=title, content=nfc((content or "").strip()),
                             requester_id=actor.user_id, deadline=due, status="open", created_at=clock.now())
    request.reviewers = [OpinionReviewer(agency_id=actor.agency_id, user_id=u, external=False) for u in internal] + [
        OpinionReviewer(agency_id=a, user_id=u, external=True) for a, u in external]
    db.session.add(request)
    db.session.flush()
    for stored in store_uploads(files):
        request.files.append(_new_file(request, stored, actor.user_id, None))

    instance = wf.start_instance(actor.agency_id, PROCESS_KEY, subject_type=SUBJECT_TYPE, subject_id=request.id,
                                 data={}, actor=actor)
    request.instance_id = instance.id
    first = next((t for t in wfq.open_tasks(instance.id) if t.step_kind == "request"), None)
    if first is None:
        raise ConflictError("Quy trình xin ý kiến của cơ quan không bắt đầu bằng bước lập phiếu; "
                            "hãy báo quản trị kiểm tra sơ đồ «opinion_request»")
    codes = sorted({c for c, _ in external_reviewers})
    wf.complete_task(first.id, actor, {
        "title": title, "reviewer_ids": internal, "reviewer_agency_codes": codes, "deadline": due.isoformat(),
        "opinion_request_id": request.id,
    })
    # A diagram with a service task calling OPERATION has already sent them; this call is then a no-op.
    request_external(request.id)
    db.session.flush()
    return request_info(request)


def request_external(request_id: int) -> int:
    """Give each external reviewer a linked copy in their own agency, with its answering workflow (idempotent)."""
    request = db.session.get(OpinionRequest, request_id)
    if request is None:
        raise NotFoundError("Không tìm thấy phiếu xin ý kiến")
    made = 0
    for reviewer in request.reviewers:
        if not reviewer.external:
            continue
        exists = db.session.scalar(select(OpinionRequest.id).where(OpinionRequest.origin_reviewer_id == reviewer.id))
        if exists is not None:
            continue
        copy = OpinionRequest(agency_id=reviewer.agency_id, title=request.title, content=request.content,
                              requester_id=request.requester_id, deadline=request.deadline, status="open",
                              origin_reviewer_id=reviewer.id, origin_agency_id=request.agency_id,
                              created_at=clock.now())
        copy.reviewers = [OpinionReviewer(agency_id=reviewer.agency_id, user_id=reviewer.user_id, external=False)]
        db.session.add(copy)
        db.session.flush()
        for f in request.files:
            if f.reviewer_id is None:  # the draft travels by reference: same blob, no copy of the bytes
                copy.files.append(OpinionFile(request_id=copy.id, filename=f.filename, content_type=f.content_type,
                                              size=f.size, sha256=f.sha256, storage_key=f.storage_key,
                                              uploaded_by_id=f.uploaded_by_id, created_at=f.created_at))
        # The instance belongs to the receiving agency; it is started on behalf of the requester.
        starter = ActorRef(user_id=request.requester_id, agency_id=reviewer.agency_id, roles=frozenset())
        instance = wf.start_instance(reviewer.agency_id, ANSWER_PROCESS_KEY, subject_type=SUBJECT_TYPE,
                                     subject_id=copy.id, actor=starter, data={
                                         "reviewer": reviewer.user_id, "deadline": request.deadline.isoformat(),
                                         "opinion_request_id": copy.id, "origin_agency_id": request.agency_id})
        copy.instance_id = instance.id
        made += 1
    db.session.flush()
    return made


def request_external_operation(instance: InstanceRef, data: dict[str, Any]) -> dict[str, Any]:
    """The ``opinions.request_external`` service task: send the copies of the instance's request."""
    if instance.subject_type != SUBJECT_TYPE:
        raise ValidationError("Thao tác gửi xin ý kiến liên thông chỉ dùng trong quy trình xin ý kiến")
    return {"external_copies": request_external(instance.subject_id)}


# -- answering -----------------------------------------------------------------------------
def _task_for(task_id: int, actor: ActorRef, kind: str) -> HumanTaskInfo:
    task = wfq.get_task(task_id)
    if task.subject_type != SUBJECT_TYPE or task.agency_id != actor.agency_id:
        raise NotFoundError("Không tìm thấy bước xử lý của phiếu xin ý kiến này")
    if task.state != "open":
        raise ConflictError("Bước này đã được xử lý; vui lòng tải lại trang")
    if task.step_kind != kind:
        raise ConflictError(f"Phiếu đang ở bước «{task.name}», không thực hiện được thao tác này")
    if not wf.can_act(task, actor):
        raise PermissionDeniedError(f"Bạn không có quyền xử lý bước «{task.name}»")
    return task


def _locked(request_id: int) -> OpinionRequest:
    row = db.session.execute(
        select(OpinionRequest).where(OpinionRequest.id == request_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError("Không tìm thấy phiếu xin ý kiến")
    return row


def answer_task_for(request_id: int, actor: ActorRef) -> HumanTaskInfo | None:
    """The open answering step of this request the actor may complete, if any."""
    row = db.session.get(OpinionRequest, request_id)
    if row is None or row.instance_id is None or row.agency_id != actor.agency_id:
        return None
    for task in wfq.open_tasks(row.instance_id):
        if task.step_kind == "answer" and wf.can_act(task, actor):
            return task
    return None


def answer_opinion(task_id: int, actor: ActorRef, *, answer: str, comment: str = "",
                   files: Sequence[UploadInfo] = ()) -> OpinionRequestInfo:
    """Record the actor's answer (and copy it back to the requester's agency when answering a copy)."""
    task = _task_for(task_id, actor, "answer")
    comment = nfc((comment or "").strip())
    errors: dict[str, list[str]] = {}
    if answer not in ANSWERS:
        errors["answer"] = ["Hãy chọn ý kiến"]
    elif answer != "agree" and not comment:
        errors["comment"] = ["Bắt buộc khi đồng ý có ý kiến hoặc không đồng ý"]
    if errors:
        reasons = "; ".join(m for msgs in errors.values() for m in msgs)
        raise ValidationError(f"Ý kiến trả lời chưa hợp lệ: {reasons}", field_errors=errors)
    request = _locked(task.subject_id)
    if request.status != "open":
        raise ConflictError("Phiếu xin ý kiến đã được tổng hợp, không nhận thêm ý kiến")
    wanted = task.candidate_user_id
    reviewer = next((r for r in request.reviewers if not r.external and r.answered_at is None
                     and r.user_id == wanted), None)
    if reviewer is None:
        raise ConflictError("Ý kiến của bạn đã được ghi nhận trước đó")
    now = clock.now()
    reviewer.answer, reviewer.comment = answer, comment or None
    reviewer.answered_by_id, reviewer.answered_at = actor.user_id, now
    stored = store_uploads(files)
    for s in stored:
        request.files.append(_new_file(request, s, actor.user_id, reviewer.id))
    if request.origin_reviewer_id is not None:
        _copy_back(request, reviewer, stored, actor.user_id)
    wf.complete_task(task.id, actor, {"answer": answer, "comment": comment[:2000]})
    if request.origin_reviewer_id is not None:
        request.status = "consolidated"  # a copy is done once its one answer is given
        request.consolidated_at = now
    db.session.flush()
    return request_info(request)


def _copy_back(copy: OpinionRequest, answered: OpinionReviewer, stored: Sequence[Any], by_user_id: int) -> None:
    origin = db.session.get(OpinionReviewer, copy.origin_reviewer_id)
    if origin is None:
        return
    original = db.session.get(OpinionRequest, origin.request_id)
    assert original is not None
    origin.answer, origin.comment = answered.answer, answered.comment
    origin.answered_by_id, origin.answered_at = answered.answered_by_id, answered.answered_at
    for s in stored:
        original.files.append(_new_file(original, s, by_user_id, origin.id))
    notices.answer_arrived(original, origin)


def consolidate(task_id: int, actor: ActorRef, *, summary: str) -> OpinionRequestInfo:
    """Close the request with the requester's summary of what was taken in and why."""
    task = _task_for(task_id, actor, "consolidate")
    summary = nfc((summary or "").strip())
    if not summary:
        raise ValidationError("Hãy nhập báo cáo tổng hợp", field_errors={"summary": ["Không được để trống"]})
    request = _locked(task.subject_id)
    request.status = "consolidated"
    request.summary = summary
    request.consolidated_at = clock.now()
    wf.complete_task(task.id, actor, {"summary": summary[:2000]})
    db.session.flush()
    return request_info(request)


def complete_step(task: HumanTaskInfo, actor: ActorRef, data: Mapping[str, Any], files: Sequence[UploadInfo],
                  comment: str | None) -> None:
    """Complete an opinion step submitted on the inbox's generic form (the COMPLETER)."""
    uploads = list(files)
    if task.step_kind == "answer":
        answer_opinion(task.id, actor, answer=str(data.get("answer") or ""), comment=str(data.get("comment") or ""),
                       files=uploads)
    elif task.step_kind == "consolidate":
        consolidate(task.id, actor, summary=str(data.get("summary") or ""))
    else:
        wf.complete_task(task.id, actor, data, comment=comment)


# -- reminders -----------------------------------------------------------------------------
def send_opinion_reminders(now: dt.datetime | None = None) -> int:
    """Remind every reviewer who has not answered a request due soon; once per reviewer (dedupe key)."""
    made = 0
    for due in opinion_reminders_due(now):
        made += notices.remind(due)
    return made
