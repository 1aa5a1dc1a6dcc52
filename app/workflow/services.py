"""Functions that change workflow state. They flush but never commit: the request or job commits.

Each step loads the instance's task rows, runs the engine, and writes back only the task rows whose
JSON changed, the instance row (whose ``revision`` is the optimistic lock) and the inbox projection.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.core import clock, signals
from app.core.errors import ConflictError, NotFoundError, PermissionDeniedError, RefusedError, ValidationError
from app.extensions import db
from app.workflow.engine import ReadyTaskInfo, WorkflowRun, WorkflowState, restore_run, start_run
from app.workflow.info import ActorRef, HumanTaskInfo, InstanceInfo, ProcessVersionInfo
from app.workflow.loader import Diagram, load_diagram, sha256_of
from app.workflow.models import HumanTask, InstanceEvent, ProcessInstance, ProcessVersion, WorkflowTaskState
from app.workflow.operations import InstanceRef
from app.workflow.validation import validate_diagram

MAX_FORM_DATA_BYTES = 64 * 1024
_RETURN_DECISIONS = {"return", "send_back", "rework"}
_task_table = WorkflowTaskState.__table__


# -- conversions ---------------------------------------------------------------------------
def version_info(row: ProcessVersion) -> ProcessVersionInfo:
    return ProcessVersionInfo(
        id=row.id,
        agency_id=row.agency_id,
        process_key=row.process_key,
        number=row.number,
        sha256=row.sha256,
        status=row.status,
        note=row.note,
        created_at=row.created_at,
        created_by_id=row.created_by_id,
        base_template_version_id=row.base_template_version_id,
    )


def task_info(row: HumanTask) -> HumanTaskInfo:
    return HumanTaskInfo(
        id=row.id,
        agency_id=row.agency_id,
        instance_id=row.instance_id,
        task_uuid=row.task_uuid,
        bpmn_id=row.bpmn_id,
        name=row.name,
        process_key=row.process_key,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        form_key=row.form_key,
        candidate_role=row.candidate_role,
        candidate_department_id=row.candidate_department_id,
        candidate_user_id=row.candidate_user_id,
        claimed_by_id=row.claimed_by_id,
        state=row.state,
        due_at=row.due_at,
        created_at=row.created_at,
        completed_at=row.completed_at,
        completed_by_id=row.completed_by_id,
        form_data=row.form_data,
        comment=row.comment,
    )


def instance_info(row: ProcessInstance, open_task_ids: Collection[int] = ()) -> InstanceInfo:
    return InstanceInfo(
        id=row.id,
        agency_id=row.agency_id,
        process_key=row.process_key,
        version_id=row.version_id,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        status=row.status,
        revision=row.revision,
        started_by_id=row.started_by_id,
        started_at=row.started_at,
        completed_at=row.completed_at,
        open_task_ids=tuple(sorted(open_task_ids)),
    )


# -- versions ------------------------------------------------------------------------------
def _next_number(agency_id: int | None, process_key: str) -> int:
    agency_clause = ProcessVersion.agency_id.is_(None) if agency_id is None else ProcessVersion.agency_id == agency_id
    current = db.session.scalar(
        select(func.max(ProcessVersion.number)).where(agency_clause, ProcessVersion.process_key == process_key)
    )
    return (current or 0) + 1


def _newest_template_id(process_key: str) -> int | None:
    return db.session.scalar(
        select(ProcessVersion.id)
        .where(
            ProcessVersion.agency_id.is_(None),
            ProcessVersion.process_key == process_key,
            ProcessVersion.status == "published",
        )
        .order_by(ProcessVersion.number.desc())
        .limit(1)
    )


def _insert_version(
    agency_id: int | None, process_key: str, bpmn_xml: str, *, by_user_id: int | None, note: str, status: str
) -> ProcessVersion:
    row = ProcessVersion(
        agency_id=agency_id,
        process_key=process_key,
        number=_next_number(agency_id, process_key),
        bpmn_xml=bpmn_xml,
        sha256=sha256_of(bpmn_xml),
        created_by_id=by_user_id,
        created_at=clock.now(),
        note=note or "",
        status=status,
        base_template_version_id=_newest_template_id(process_key) if agency_id is not None else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise ConflictError("Một phiên bản khác của quy trình vừa được lưu cùng lúc; vui lòng thử lại") from None
    return row


def publish_version(
    agency_id: int | None,
    process_key: str,
    bpmn_xml: str,
    *,
    by_user_id: int | None,
    note: str,
    known_roles: Collection[str],
    known_forms: Collection[str] | None,
    known_operations: Collection[str] | None = None,
) -> ProcessVersionInfo:
    """Validate and publish a new immutable, numbered version (``agency_id=None``: a SoICT template)."""
    validate_diagram(bpmn_xml, known_roles=known_roles, known_forms=known_forms, known_operations=known_operations)
    row = _insert_version(agency_id, process_key, bpmn_xml, by_user_id=by_user_id, note=note, status="published")
    return version_info(row)


def save_draft(
    agency_id: int | None, process_key: str, bpmn_xml: str, *, by_user_id: int | None, note: str = ""
) -> ProcessVersionInfo:
    """Keep an unfinished diagram; drafts are not validated and never run."""
    row = _insert_version(agency_id, process_key, bpmn_xml, by_user_id=by_user_id, note=note, status="draft")
    return version_info(row)


def update_draft(version_id: int, bpmn_xml: str, *, note: str | None = None) -> ProcessVersionInfo:
    row = db.session.get(ProcessVersion, version_id)
    if row is None:
        raise NotFoundError("Không tìm thấy phiên bản quy trình")
    if row.status != "draft":
        raise RefusedError(
            f"Phiên bản số {row.number} của quy trình đã ban hành, không được sửa; hãy tạo phiên bản mới"
        )
    row.bpmn_xml = bpmn_xml
    row.sha256 = sha256_of(bpmn_xml)
    if note is not None:
        row.note = note
    db.session.flush()
    return version_info(row)


def publish_draft(
    version_id: int,
    *,
    known_roles: Collection[str],
    known_forms: Collection[str] | None,
    known_operations: Collection[str] | None = None,
) -> ProcessVersionInfo:
    row = db.session.get(ProcessVersion, version_id)
    if row is None:
        raise NotFoundError("Không tìm thấy phiên bản quy trình")
    if row.status != "draft":
        raise RefusedError(f"Phiên bản số {row.number} đã được ban hành")
    validate_diagram(row.bpmn_xml, known_roles=known_roles, known_forms=known_forms, known_operations=known_operations)
    row.status = "published"
    row.created_at = clock.now()
    db.session.flush()
    return version_info(row)


def current_version(agency_id: int, process_key: str) -> ProcessVersionInfo:
    """The agency's newest published version, else SoICT's newest published template."""
    for agency_clause in (ProcessVersion.agency_id == agency_id, ProcessVersion.agency_id.is_(None)):
        row = db.session.scalar(
            select(ProcessVersion)
            .where(agency_clause, ProcessVersion.process_key == process_key, ProcessVersion.status == "published")
            .order_by(ProcessVersion.number.desc())
            .limit(1)
        )
        if row is not None:
            return version_info(row)
    raise NotFoundError(f'Chưa có quy trình "{process_key}" nào được ban hành cho cơ quan này')


# Published versions never change, so their parsed diagram can be kept for the life of the process.
_version_diagrams: dict[int, Diagram] = {}
_version_lock = threading.Lock()


def _diagram_for_version(version_id: int) -> Diagram:
    diagram = _version_diagrams.get(version_id)
    if diagram is not None:
        return diagram
    row = db.session.execute(
        select(ProcessVersion.bpmn_xml, ProcessVersion.sha256, ProcessVersion.status).where(
            ProcessVersion.id == version_id
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError("Không tìm thấy phiên bản quy trình")
    diagram = load_diagram(row.bpmn_xml, row.sha256)
    if row.status == "published":
        with _version_lock:
            _version_diagrams[version_id] = diagram
    return diagram


# -- permissions ---------------------------------------------------------------------------
def can_act(task: HumanTaskInfo | HumanTask, actor: ActorRef) -> bool:
    """A named candidate user acts alone; otherwise the lane role (within the candidate department)."""
    if task.agency_id != actor.agency_id or task.state != "open":
        return False
    if task.claimed_by_id is not None and task.claimed_by_id != actor.user_id:
        return False
    if task.candidate_user_id is not None:
        return task.candidate_user_id == actor.user_id
    if task.candidate_role is None or task.candidate_role not in actor.roles:
        return False
    return task.candidate_department_id is None or task.candidate_department_id == actor.department_id


# -- running -------------------------------------------------------------------------------
def _ref(instance: ProcessInstance) -> InstanceRef:
    return InstanceRef(
        instance_id=instance.id,
        agency_id=instance.agency_id,
        process_key=instance.process_key,
        subject_type=instance.subject_type,
        subject_id=instance.subject_id,
        version_id=instance.version_id,
    )


def _load_state(instance: ProcessInstance) -> tuple[WorkflowState, dict[str, tuple[int, str]]]:
    rows = db.session.execute(
        select(_task_table.c.task_uuid, _task_table.c.seq, _task_table.c.state_json)
        .where(_task_table.c.instance_id == instance.id)
        .order_by(_task_table.c.seq)
    ).all()
    stored = {r.task_uuid: (r.seq, r.state_json) for r in rows}
    return WorkflowState(meta=instance.state_meta, tasks={k: v[1] for k, v in stored.items()}), stored


def _save_state(instance: ProcessInstance, run: WorkflowRun, stored: Mapping[str, tuple[int, str]]) -> None:
    """Write only the task rows that changed since load (the O(1)-per-step part of persistence)."""
    state = run.dump()
    next_seq = max((seq for seq, _ in stored.values()), default=0) + 1
    inserts, updates = [], []
    for uid, task_json in state.tasks.items():
        previous = stored.get(uid)
        if previous is None:
            inserts.append({"instance_id": instance.id, "task_uuid": uid, "seq": next_seq, "state_json": task_json})
            next_seq += 1
        elif previous[1] != task_json:
            updates.append({"b_instance_id": instance.id, "b_task_uuid": uid, "state_json": task_json})
    removed = [uid for uid in stored if uid not in state.tasks]
    if inserts:
        db.session.execute(insert(_task_table), inserts)
    if updates:
        db.session.execute(
            update(_task_table)
            .where(
                _task_table.c.instance_id == bindparam("b_instance_id"),
                _task_table.c.task_uuid == bindparam("b_task_uuid"),
            )
            .values(state_json=bindparam("state_json")),
            updates,
            execution_options={"synchronize_session": False},
        )
    if removed:
        db.session.execute(
            delete(_task_table).where(_task_table.c.instance_id == instance.id, _task_table.c.task_uuid.in_(removed))
        )
    instance.state_meta = state.meta


def _event(instance_id: int, kind: str, *, actor_id: int | None = None, task: HumanTask | None = None,
           comment: str | None = None, data: dict[str, Any] | None = None) -> None:
    db.session.add(
        InstanceEvent(
            instance_id=instance_id,
            at=clock.now(),
            actor_id=actor_id,
            kind=kind,
            task_name=task.name if task is not None else None,
            bpmn_id=task.bpmn_id if task is not None else None,
            comment=comment,
            data=data,
        )
    )


def _new_human_task(instance: ProcessInstance, ready: ReadyTaskInfo) -> HumanTask:
    return HumanTask(
        agency_id=instance.agency_id,
        instance_id=instance.id,
        task_uuid=ready.task_uuid,
        bpmn_id=ready.bpmn_id,
        name=ready.name,
        process_key=instance.process_key,
        subject_type=instance.subject_type,
        subject_id=instance.subject_id,
        form_key=ready.form_key,
        candidate_role=ready.lane,
        candidate_department_id=ready.candidate_department_id,
        candidate_user_id=ready.candidate_user_id,
        state="open",
        due_at=ready.due_at,
        created_at=clock.now(),
    )


def _sync_inbox(instance: ProcessInstance, run: WorkflowRun, open_rows: list[HumanTask]) -> list[int]:
    """Make the open human tasks equal the engine's READY user tasks; return their ids."""
    ready = {t.task_uuid: t for t in run.ready_user_tasks()}
    kept: list[HumanTask] = []
    now = clock.now()
    for row in open_rows:
        if row.state != "open":
            continue
        if row.task_uuid in ready:
            kept.append(row)
            ready.pop(row.task_uuid)
        else:
            row.state = "cancelled"
            row.completed_at = now
    fresh = [_new_human_task(instance, r) for r in ready.values()]
    if fresh:
        db.session.add_all(fresh)
    db.session.flush()
    for row in fresh:
        _event(instance.id, "opened", task=row)
        signals.task_opened.send("workflow", task=task_info(row))
    return [row.id for row in kept + fresh]


def _finish_step(instance: ProcessInstance, run: WorkflowRun, stored: Mapping[str, tuple[int, str]],
                 open_rows: list[HumanTask], actor_id: int | None) -> InstanceInfo:
    _save_state(instance, run, stored)
    now = clock.now()
    instance.updated_at = now
    instance.next_timer_at = run.next_timer_at()
    if run.completed and instance.status == "running":
        instance.status = "completed"
        instance.completed_at = now
        _event(instance.id, "finished", actor_id=actor_id)
    for name in getattr(run, "operations_called", ()):
        _event(instance.id, "operation", actor_id=actor_id, data={"operation": name})
    open_ids = _sync_inbox(instance, run, open_rows)
    db.session.flush()
    return instance_info(instance, open_ids)


def _check_form_data(form_data: Mapping[str, Any]) -> None:
    try:
        size = len(json.dumps(form_data, default=str))
    except (TypeError, ValueError):
        raise ValidationError("Dữ liệu biểu mẫu không hợp lệ") from None
    if size > MAX_FORM_DATA_BYTES:
        raise ValidationError(
            f"Dữ liệu biểu mẫu quá lớn ({size // 1024} KB); quy trình chỉ lưu mã số và giá trị ngắn, "
            "nội dung văn bản phải lưu ở hồ sơ văn bản"
        )


def start_instance(
    agency_id: int,
    process_key: str,
    *,
    subject_type: str,
    subject_id: int,
    data: Mapping[str, Any],
    actor: ActorRef,
) -> InstanceInfo:
    """Start the agency's current version of ``process_key`` for a subject (a document, a task…)."""
    if actor.agency_id != agency_id:
        raise PermissionDeniedError("Không thể khởi tạo quy trình cho cơ quan khác")
    _check_form_data(data)
    version = current_version(agency_id, process_key)
    diagram = _diagram_for_version(version.id)
    now = clock.now()
    instance = ProcessInstance(
        agency_id=agency_id,
        process_key=process_key,
        version_id=version.id,
        subject_type=subject_type,
        subject_id=subject_id,
        status="running",
        started_by_id=actor.user_id,
        started_at=now,
        updated_at=now,
        state_meta="{}",
        meta={"version_number": version.number, "sha256": version.sha256},
    )
    db.session.add(instance)
    db.session.flush()
    initial = {"initiator_id": actor.user_id, "initiator_department_id": actor.department_id, **dict(data)}
    _event(instance.id, "started", actor_id=actor.user_id)
    with db.session.no_autoflush:
        run = start_run(diagram, initial, _ref(instance))
        return _finish_step(instance, run, {}, [], actor.user_id)


def _lock_instance(instance_id: int) -> ProcessInstance:
    instance = db.session.execute(
        select(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if instance is None:
        raise NotFoundError("Không tìm thấy hồ sơ quy trình")
    return instance


def _open_rows(instance_id: int) -> list[HumanTask]:
    return list(
        db.session.scalars(
            select(HumanTask)
            .where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
            .execution_options(populate_existing=True)
        )
    )


def _restore(instance: ProcessInstance) -> tuple[WorkflowRun, dict[str, tuple[int, str]]]:
    diagram = _diagram_for_version(instance.version_id)
    state, stored = _load_state(instance)
    return restore_run(diagram, state, _ref(instance)), stored


_CONFLICT = "Công việc này đã được xử lý bởi người khác hoặc hồ sơ vừa thay đổi; vui lòng tải lại trang"


def complete_task(
    human_task_id: int, actor: ActorRef, form_data: Mapping[str, Any], *, comment: str | None = None
) -> InstanceInfo:
    """Complete an open task for ``actor``; exactly one of two concurrent completions wins.

    PostgreSQL: the instance row lock makes the loser wait, then see the task done. SQLite (no row
    locks): the loser's UPDATE of the instance finds the revision moved on (optimistic lock).
    """
    try:
        # One flush per step instead of an autoflush before every query: fewer round trips.
        with db.session.no_autoflush:
            return _complete_task(human_task_id, actor, form_data, comment)
    except (StaleDataError, IntegrityError):
        # SQLite has no row lock: a racing completion may hit the inbox's unique key before the revision check.
        raise ConflictError(_CONFLICT) from None


def _complete_task(
    human_task_id: int, actor: ActorRef, form_data: Mapping[str, Any], comment: str | None
) -> InstanceInfo:
    instance_id = db.session.scalar(select(HumanTask.instance_id).where(HumanTask.id == human_task_id))
    if instance_id is None:
        raise NotFoundError("Không tìm thấy công việc")
    instance = _lock_instance(instance_id)
    open_rows = _open_rows(instance_id)
    task = next((row for row in open_rows if row.id == human_task_id), None)
    if task is None:
        raise ConflictError(_CONFLICT)
    if not can_act(task, actor):
        raise PermissionDeniedError(f'Bạn không có quyền xử lý công việc "{task.name}"')
    _check_form_data(form_data)
    run, stored = _restore(instance)
    run.complete_task(task.task_uuid, form_data)
    now = clock.now()
    task.state = "done"
    task.completed_at = now
    task.completed_by_id = actor.user_id
    task.form_data = json.loads(json.dumps(dict(form_data), default=str))
    task.comment = comment
    decision = form_data.get("decision")
    kind = "returned" if isinstance(decision, str) and decision in _RETURN_DECISIONS else "completed"
    _event(instance.id, kind, actor_id=actor.user_id, task=task, comment=comment,
           data={"decision": decision} if decision is not None else None)
    signals.task_completed.send("workflow", task=task_info(task))
    return _finish_step(instance, run, stored, open_rows, actor.user_id)


def claim_task(human_task_id: int, actor: ActorRef) -> HumanTaskInfo:
    """Take an open group task so colleagues see someone is on it."""
    task = db.session.execute(
        select(HumanTask).where(HumanTask.id == human_task_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if task is None:
        raise NotFoundError("Không tìm thấy công việc")
    if task.state != "open":
        raise ConflictError("Công việc này đã được xử lý bởi người khác hoặc không còn hiệu lực; vui lòng tải lại trang")
    if task.claimed_by_id is not None and task.claimed_by_id != actor.user_id:
        raise ConflictError("Công việc này đã có người khác nhận xử lý")
    if not can_act(task, actor):
        raise PermissionDeniedError(f'Bạn không có quyền nhận công việc "{task.name}"')
    if task.claimed_by_id is None:
        task.claimed_by_id = actor.user_id
        _event(task.instance_id, "claimed", actor_id=actor.user_id, task=task)
        db.session.flush()
    return task_info(task)


def cancel_instance(instance_id: int, actor: ActorRef, *, comment: str | None = None) -> InstanceInfo:
    instance = _lock_instance(instance_id)
    if instance.agency_id != actor.agency_id:
        raise PermissionDeniedError("Không có quyền hủy quy trình của cơ quan khác")
    if instance.status != "running":
        raise ConflictError("Quy trình đã kết thúc")
    now = clock.now()
    for row in _open_rows(instance_id):
        row.state = "cancelled"
        row.completed_at = now
    instance.status = "cancelled"
    instance.completed_at = now
    instance.updated_at = now
    instance.next_timer_at = None
    _event(instance_id, "cancelled", actor_id=actor.user_id, comment=comment)
    db.session.flush()
    return instance_info(instance)


# -- timers --------------------------------------------------------------------------------
def refresh_timers(instance_id: int) -> InstanceInfo:
    """Let fired timers move the instance on (called by the timer job)."""
    instance = _lock_instance(instance_id)
    if instance.status != "running":
        return instance_info(instance)
    open_rows = _open_rows(instance_id)
    run, stored = _restore(instance)
    run.refresh_timers()
    try:
        return _finish_step(instance, run, stored, open_rows, None)
    except StaleDataError:
        raise ConflictError(_CONFLICT) from None


def due_timer_instance_ids(now: dt.datetime | None = None, *, limit: int = 500) -> list[int]:
    at = now or clock.now()
    return list(
        db.session.scalars(
            select(ProcessInstance.id)
            .where(ProcessInstance.status == "running", ProcessInstance.next_timer_at <= at)
            .order_by(ProcessInstance.next_timer_at)
            .limit(limit)
        )
    )


def fire_due_timers(now: dt.datetime | None = None) -> int:
    """Refresh every running instance whose next timer is due; return how many were refreshed."""
    count = 0
    for instance_id in due_timer_instance_ids(now):
        refresh_timers(instance_id)
        count += 1
    return count
