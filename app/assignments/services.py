"""Functions that change assigned work. Each one changes the rows and completes the workflow step together.

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
from app.documents.models import Document
from app.extensions import db
from app.notifications.services import notify
from app.opinions.models import OpinionRequest
from app.tenancy import roles as R
from app.tenancy.models import Department, Staff
from app.workflow import queries as wfq
from app.workflow import services as wf
from app.workflow.info import ActorRef, HumanTaskInfo

from .files import UploadInfo, store_uploads
from .models import WorkExtension, WorkFile, WorkItem, WorkLink, WorkMember, WorkReport
from .queries import WorkItemInfo, work_item_info

PROCESS_KEY = "task_assignment"
SUBJECT_TYPE = "task_assignment"
ASSIGNING_ROLES = frozenset({R.LEADER, R.HEAD})
RATINGS = {
    "excellent": "Hoàn thành xuất sắc",
    "good": "Hoàn thành tốt",
    "pass": "Hoàn thành",
    "fail": "Không hoàn thành",
}
MAX_TITLE = 500
MAX_LINKS = 50
FORM_MESSAGE = "Thông tin giao việc chưa hợp lệ, vui lòng kiểm tra các trường được đánh dấu"


# -- helpers -------------------------------------------------------------------------------
def _staff(agency_id: int, user_id: int) -> Staff | None:
    return db.session.scalar(
        select(Staff).where(Staff.user_id == user_id, Staff.agency_id == agency_id, Staff.active.is_(True)))


def _department(agency_id: int, department_id: int) -> Department | None:
    return db.session.scalar(
        select(Department).where(Department.id == department_id, Department.agency_id == agency_id,
                                 Department.active.is_(True)))


def _head_of(agency_id: int, department_id: int) -> Staff | None:
    from app.tenancy.queries import staff_of

    heads = staff_of(agency_id, department_id=department_id, role=R.HEAD)
    return heads[0] if heads else None


def _locked_item(work_item_id: int) -> WorkItem:
    item = db.session.execute(
        select(WorkItem).where(WorkItem.id == work_item_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if item is None:
        raise NotFoundError("Không tìm thấy công việc được giao")
    return item


def _task_for(task_id: int, actor: ActorRef, kind: str | None = None) -> HumanTaskInfo:
    task = wfq.get_task(task_id)
    if task.subject_type != SUBJECT_TYPE or task.agency_id != actor.agency_id:
        raise NotFoundError("Không tìm thấy bước xử lý của công việc này")
    if task.state != "open":
        raise ConflictError("Bước này đã được xử lý; vui lòng tải lại trang")
    if kind is not None and task.step_kind != kind:
        raise ConflictError(f"Công việc đang ở bước «{task.name}», không thực hiện được thao tác này")
    if not wf.can_act(task, actor):
        raise PermissionDeniedError(f"Bạn không có quyền xử lý bước «{task.name}» của công việc này")
    return task


def _add_files(item: WorkItem, uploads: Sequence[UploadInfo], by_user_id: int,
               report: WorkReport | None = None) -> None:
    for f in store_uploads(uploads):
        item.files.append(WorkFile(report_id=report.id if report is not None else None, filename=f.filename,
                                   content_type=f.content_type, size=f.size, sha256=f.sha256,
                                   storage_key=f.storage_key, uploaded_by_id=by_user_id, created_at=clock.now()))


def _db_id(value: Any) -> int | None:
    """A positive id that fits the id columns (32-bit INTEGER on PostgreSQL), or None."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _link_is_ours(agency_id: int, subject_type: str, subject_id: int | None) -> bool:
    """Whether a linked subject exists in the actor's agency (documents, opinion requests, assigned work)."""
    if subject_id is None:
        return False
    if subject_type in ("incoming", "outgoing"):
        owner = db.session.scalar(select(Document.agency_id).where(
            Document.id == subject_id, Document.direction == subject_type))
    elif subject_type == "opinion_request":
        owner = db.session.scalar(select(OpinionRequest.agency_id).where(OpinionRequest.id == subject_id))
    elif subject_type == SUBJECT_TYPE:
        owner = db.session.scalar(select(WorkItem.agency_id).where(WorkItem.id == subject_id))
    else:
        return False
    return owner == agency_id


def _ids(values: Iterable[Any] | None, field: str, errors: dict[str, list[str]]) -> list[int]:
    out: list[int] = []
    for v in values or ():
        if v in (None, ""):
            continue
        value = _db_id(v)
        if value is None:
            errors.setdefault(field, []).append("Giá trị không hợp lệ")
            continue
        if value not in out:
            out.append(value)
    return out


# -- assigning -----------------------------------------------------------------------------
def create_work_item(
    actor: ActorRef,
    *,
    title: str,
    deadline: dt.date | str,
    description: str = "",
    lead_user_id: int | None = None,
    lead_department_id: int | None = None,
    coordinating_user_ids: Iterable[int] = (),
    coordinating_department_ids: Iterable[int] = (),
    attachments_note: str = "",
    links: Iterable[tuple[str, int]] = (),
    files: Sequence[UploadInfo] = (),
) -> WorkItemInfo:
    """Assign work: the rows, the task_assignment workflow and its completed first step, in one transaction.

    With a lead department but no lead person, the head of that department leads (and may hand it on).
    """
    if not ASSIGNING_ROLES & actor.roles:
        raise PermissionDeniedError("Chỉ lãnh đạo cơ quan hoặc trưởng phòng được giao việc")
    errors: dict[str, list[str]] = {}
    title = text_field(title, "title", errors, max_length=MAX_TITLE, required=True)
    due = date_field(deadline, "deadline", errors, required=True)
    if due is not None and due < clock.today():
        errors["deadline"] = ["Hạn hoàn thành không được trước ngày hôm nay"]
    department = None
    if lead_department_id not in (None, ""):
        department_id = _db_id(lead_department_id)
        department = _department(actor.agency_id, department_id) if department_id is not None else None
        if department is None:
            errors["lead_department_id"] = ["Đơn vị không thuộc cơ quan"]
    lead = None
    if lead_user_id not in (None, ""):
        lead_id = _db_id(lead_user_id)
        lead = _staff(actor.agency_id, lead_id) if lead_id is not None else None
        if lead is None:
            errors["lead_user_id"] = ["Người chủ trì không phải cán bộ đang công tác tại cơ quan"]
    elif department is not None:
        lead = _head_of(actor.agency_id, department.id)
        if lead is None:
            errors["lead_user_id"] = [f"{department.name} chưa có trưởng phòng; hãy chọn người chủ trì"]
    elif "lead_department_id" not in errors:
        errors["lead_user_id"] = ["Hãy chọn người chủ trì hoặc đơn vị chủ trì"]
    if lead is not None and lead.user_id == actor.user_id:
        errors.setdefault("lead_user_id", []).append("Không tự giao việc cho chính mình")
    co_users = _ids(coordinating_user_ids, "coordinating_user_ids", errors)
    for uid in co_users:
        if _staff(actor.agency_id, uid) is None:
            errors.setdefault("coordinating_user_ids", []).append("Người phối hợp không thuộc cơ quan")
            break
    co_users = [u for u in co_users if lead is None or u != lead.user_id]
    co_deps = _ids(coordinating_department_ids, "coordinating_department_ids", errors)
    for did in co_deps:
        if _department(actor.agency_id, did) is None:
            errors.setdefault("coordinating_department_ids", []).append("Đơn vị phối hợp không thuộc cơ quan")
            break
    link_pairs = list(dict.fromkeys((str(t), _db_id(i)) for t, i in links))
    if len(link_pairs) > MAX_LINKS:
        errors["links"] = [f"Tối đa {MAX_LINKS} văn bản liên quan"]
    elif any(not _link_is_ours(actor.agency_id, t, i) for t, i in link_pairs):
        # One answer for absent and another agency's: never confirm that someone else's id exists.
        errors["links"] = ["Không tìm thấy văn bản hoặc công việc liên quan trong cơ quan"]
    if errors:
        raise ValidationError(FORM_MESSAGE, field_errors=errors)
    assert lead is not None and due is not None

    now = clock.now()
    item = WorkItem(
        agency_id=actor.agency_id, title=title, description=nfc((description or "").strip()),
        assigned_by_id=actor.user_id, lead_user_id=lead.user_id,
        lead_department_id=department.id if department is not None else lead.department_id,
        deadline=due, original_deadline=due, percent=0, status="open",
        attachments_note=nfc((attachments_note or "").strip()), created_at=now,
    )
    item.members = [WorkMember(kind="user", ref_id=u) for u in co_users] + [
        WorkMember(kind="department", ref_id=d) for d in co_deps]
    item.links = [WorkLink(subject_type=t, subject_id=i) for t, i in link_pairs if i is not None]
    db.session.add(item)
    db.session.flush()
    _add_files(item, files, actor.user_id)

    instance = wf.start_instance(actor.agency_id, PROCESS_KEY, subject_type=SUBJECT_TYPE, subject_id=item.id,
                                 data={}, actor=actor)
    item.instance_id = instance.id
    first = next((t for t in wfq.open_tasks(instance.id) if t.step_kind == "assign_task"), None)
    if first is None:
        raise ConflictError("Quy trình giao việc của cơ quan không bắt đầu bằng bước giao nhiệm vụ; "
                            "hãy báo quản trị kiểm tra sơ đồ «task_assignment»")
    wf.complete_task(first.id, actor, _assign_data(item, co_users, co_deps))
    # The lead person hears of it through the new report step; coordinators have no step, so tell them here.
    notify(co_users, agency_id=actor.agency_id, kind="task_new", title=f"Phối hợp thực hiện: {item.title}"[:255],
           body=f"Hạn hoàn thành: ngày {item.deadline:%d/%m/%Y}.", link=f"/assignments/{item.id}",
           exclude_user_id=actor.user_id, dedupe_key=f"work:{item.id}:coordinate")
    db.session.flush()
    return work_item_info(item)


def _assign_data(item: WorkItem, co_users: list[int], co_deps: list[int]) -> dict[str, Any]:
    """What the diagram reads: the task_assign form's fields (ids and dates, never long text)."""
    return {
        "title": item.title[:500],
        "lead_user_id": item.lead_user_id,
        "lead_department_id": item.lead_department_id,
        "coordinating_user_ids": co_users,
        "coordinating_department_ids": co_deps,
        "deadline": item.deadline.isoformat(),
        "work_item_id": item.id,
    }


# -- the lead person's steps ---------------------------------------------------------------
def _report(item: WorkItem, actor: ActorRef, percent: int, note: str) -> WorkReport:
    if item.status != "open":
        raise ConflictError("Công việc đã hoàn thành, không báo cáo tiếp được")
    if not isinstance(percent, int) or isinstance(percent, bool) or not 0 <= percent <= 100:
        raise ValidationError("Tỷ lệ hoàn thành phải từ 0 đến 100%",
                              field_errors={"percent": ["Phải từ 0 đến 100"]})
    report = WorkReport(percent=percent, note=nfc((note or "").strip()), reported_by_id=actor.user_id,
                        reported_at=clock.now())
    item.reports.append(report)
    item.percent = percent
    db.session.flush()
    return report


def _step_data(percent: int, note: str, *, request_extension: bool = False,
               new_deadline: dt.date | None = None) -> dict[str, Any]:
    finished = percent >= 100 and not request_extension
    return {"percent": percent, "note": note[:2000], "request_extension": request_extension,
            "new_deadline": new_deadline.isoformat() if new_deadline else None, "finished": finished}


def report_progress(task_id: int, actor: ActorRef, *, percent: int, note: str = "",
                    files: Sequence[UploadInfo] = (), comment: str | None = None) -> WorkItemInfo:
    """Report progress below 100%; the work stays with the lead person (a new report step opens)."""
    if percent >= 100:
        return finish(task_id, actor, note=note, files=files, comment=comment)
    task = _task_for(task_id, actor, "report")
    item = _locked_item(task.subject_id)
    report = _report(item, actor, percent, note)
    _add_files(item, files, actor.user_id, report)
    wf.complete_task(task.id, actor, _step_data(percent, note), comment=comment)
    return work_item_info(item)


def request_extension(task_id: int, actor: ActorRef, *, new_deadline: dt.date | str, reason: str = "",
                      percent: int | None = None, files: Sequence[UploadInfo] = (),
                      comment: str | None = None) -> WorkItemInfo:
    """Report progress and ask the assigner for a later deadline; the assigner decides next."""
    task = _task_for(task_id, actor, "report")
    item = _locked_item(task.subject_id)
    errors: dict[str, list[str]] = {}
    wanted = date_field(new_deadline, "new_deadline", errors)
    if wanted is None and not errors:
        errors["new_deadline"] = ["Hãy nhập hạn mới đề nghị"]
    elif wanted is not None and wanted <= item.deadline:
        errors["new_deadline"] = [f"Hạn mới phải sau hạn hiện tại ({item.deadline:%d/%m/%Y})"]
    if any(e.status == "pending" for e in item.extensions):
        errors.setdefault("new_deadline", []).append("Đã có một đề nghị gia hạn đang chờ quyết định")
    if errors:
        # The inbox's generic page shows only the message: say what is wrong in it.
        reasons = "; ".join(m for msgs in errors.values() for m in msgs)
        raise ValidationError(f"Đề nghị gia hạn chưa hợp lệ: {reasons}", field_errors=errors)
    assert wanted is not None
    done = item.percent if percent is None else percent
    report = _report(item, actor, done, reason or f"Đề nghị gia hạn đến ngày {wanted:%d/%m/%Y}")
    _add_files(item, files, actor.user_id, report)
    item.extensions.append(WorkExtension(old_deadline=item.deadline, new_deadline=wanted,
                                         reason=nfc((reason or "").strip()), requested_by_id=actor.user_id,
                                         requested_at=clock.now(), status="pending"))
    wf.complete_task(task.id, actor, _step_data(done, reason, request_extension=True, new_deadline=wanted),
                     comment=comment)
    db.session.flush()
    return work_item_info(item)


def finish(task_id: int, actor: ActorRef, *, note: str = "", files: Sequence[UploadInfo] = (),
           comment: str | None = None) -> WorkItemInfo:
    """Report the work done (100%); the assigner evaluates it next."""
    task = _task_for(task_id, actor, "report")
    item = _locked_item(task.subject_id)
    report = _report(item, actor, 100, note)
    _add_files(item, files, actor.user_id, report)
    item.status = "done"
    item.finished_at = clock.now()
    wf.complete_task(task.id, actor, _step_data(100, note), comment=comment)
    return work_item_info(item)


# -- the assigner's steps ------------------------------------------------------------------
def decide_extension(task_id: int, actor: ActorRef, *, approve: bool, comment: str = "") -> WorkItemInfo:
    """Approve (the deadline moves) or refuse the pending extension request."""
    task = _task_for(task_id, actor, "extension_decision")
    item = _locked_item(task.subject_id)
    pending = next((e for e in item.extensions if e.status == "pending"), None)
    if pending is None:
        raise ConflictError("Không có đề nghị gia hạn nào đang chờ quyết định")
    pending.status = "approved" if approve else "refused"
    pending.decided_by_id = actor.user_id
    pending.decided_at = clock.now()
    pending.decision_comment = nfc((comment or "").strip()) or None
    if approve:
        item.deadline = pending.new_deadline
    # The next report step takes its due date from ``deadline``.
    data = {"decision": "approve" if approve else "refuse", "comment": (comment or "")[:2000],
            "deadline": item.deadline.isoformat()}
    wf.complete_task(task.id, actor, data, comment=comment or None)
    db.session.flush()
    return work_item_info(item)


def evaluate(task_id: int, actor: ActorRef, *, rating: str, comment: str = "") -> WorkItemInfo:
    """Rate finished work; "not completed" sends it back to the lead person (rework)."""
    task = _task_for(task_id, actor, "evaluate")
    if rating not in RATINGS:
        raise ValidationError("Hãy chọn mức độ hoàn thành", field_errors={"rating": ["Giá trị không hợp lệ"]})
    item = _locked_item(task.subject_id)
    rework = rating == "fail"
    item.rating = rating
    item.evaluation_comment = nfc((comment or "").strip()) or None
    item.evaluated_at = clock.now()
    if rework:
        item.status = "open"
        item.finished_at = None
    else:
        item.status = "evaluated"
    data = {"rating": rating, "comment": (comment or "")[:2000], "decision": "rework" if rework else "accept",
            "deadline": item.deadline.isoformat()}
    wf.complete_task(task.id, actor, data, comment=comment or None)
    db.session.flush()
    return work_item_info(item)


# -- the generic task page -----------------------------------------------------------------
def _bool(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1", "y", "yes", "on")


def complete_step(task: HumanTaskInfo, actor: ActorRef, data: Mapping[str, Any], files: Sequence[UploadInfo],
                  comment: str | None) -> None:
    """Complete a task_assignment step submitted on the inbox's generic form (the COMPLETER)."""
    uploads = list(files)
    if task.step_kind == "report":
        try:
            percent = int(data.get("percent") or 0)
        except (TypeError, ValueError):
            raise ValidationError("Tỷ lệ hoàn thành phải là số", field_errors={"percent": ["Phải là số"]}) from None
        note = str(data.get("note") or "")
        if _bool(data.get("request_extension")):
            request_extension(task.id, actor, new_deadline=data.get("new_deadline") or "", reason=note,
                              percent=percent, files=uploads, comment=comment)
        elif percent >= 100:
            finish(task.id, actor, note=note, files=uploads, comment=comment)
        else:
            report_progress(task.id, actor, percent=percent, note=note, files=uploads, comment=comment)
    elif task.step_kind == "extension_decision":
        decide_extension(task.id, actor, approve=data.get("decision") == "approve",
                         comment=str(data.get("comment") or ""))
    elif task.step_kind == "evaluate":
        evaluate(task.id, actor, rating=str(data.get("rating") or ""), comment=str(data.get("comment") or ""))
    else:
        wf.complete_task(task.id, actor, data, comment=comment)
