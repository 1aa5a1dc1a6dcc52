"""Functions that change workflow state. They write but never commit: the request or job commits.

A step locks the instance row and reads its open tasks (one statement), takes the workflow from this
process's cache when the cached revision equals the row's (else rebuilds it from the task rows), runs the
engine, and writes what changed through ``step_writes``: the instance row (whose ``revision`` is the
optimistic lock), the task rows whose JSON changed, the inbox projection and the timeline, in one
statement on PostgreSQL. Writing does not grow with the instance.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, event, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core import clock, signals
from app.core.errors import ConflictError, NotFoundError, PermissionDeniedError, RefusedError, ValidationError
from app.extensions import db
from app.workflow import steps
from app.workflow.engine import (
    ReadyTaskInfo,
    WorkflowChanges,
    WorkflowRun,
    WorkflowState,
    restore_run,
    start_run,
)
from app.workflow.errors import StepTakenError
from app.workflow.info import ActorRef, HumanTaskInfo, InstanceInfo, ProcessVersionInfo
from app.workflow.loader import Diagram, load_diagram, sha256_of
from app.workflow.models import (
    HumanTask,
    InstanceEvent,
    ProcessInstance,
    ProcessVersion,
    TaskRead,
    WorkflowTaskState,
)
from app.workflow.operations import InstanceRef
from app.workflow.step_writes import DoneMark, StepWrite, write_step
from app.workflow.validation import ContractInfo, validate_diagram

MAX_FORM_DATA_BYTES = 64 * 1024
# The task whose step handler is running in this context, and its proceed (see complete_task).
_handling: ContextVar[tuple[int, Any] | None] = ContextVar("qlvb_step_handling", default=None)
_RETURN_DECISIONS = {"return", "send_back", "rework"}


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
        step_kind=row.step_kind,
        on_behalf_of_id=getattr(row, "on_behalf_of_id", None),
        read=_flag(getattr(row, "is_read", None)),
    )


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)  # SQLite answers EXISTS with 0 or 1


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
    contract: ContractInfo | None = None,
) -> ProcessVersionInfo:
    """Validate and publish a new immutable, numbered version (``agency_id=None``: a SoICT template)."""
    validate_diagram(bpmn_xml, known_roles=known_roles, known_forms=known_forms, known_operations=known_operations,
                     contract=contract)
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
    contract: ContractInfo | None = None,
) -> ProcessVersionInfo:
    row = db.session.get(ProcessVersion, version_id)
    if row is None:
        raise NotFoundError("Không tìm thấy phiên bản quy trình")
    if row.status != "draft":
        raise RefusedError(f"Phiên bản số {row.number} đã được ban hành")
    validate_diagram(row.bpmn_xml, known_roles=known_roles, known_forms=known_forms, known_operations=known_operations,
                     contract=contract)
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


# Published versions never change, so their parsed diagram can be kept for the life of the process. The
# key includes the content hash: an id can come back after a rollback (SQLite reuses the highest rowid).
_version_diagrams: dict[tuple[int, str], Diagram] = {}
_version_lock = threading.Lock()


def _diagram_for_version(version_id: int, sha256: str | None = None) -> Diagram:
    if sha256 is not None:
        diagram = _version_diagrams.get((version_id, sha256))
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
            _version_diagrams[(version_id, row.sha256)] = diagram
    return diagram


# -- permissions ---------------------------------------------------------------------------
def can_act(task: HumanTaskInfo | HumanTask, actor: ActorRef) -> bool:
    """The actor may act on the task as themselves, or for someone they stand in for (ủy quyền)."""
    return _can_act_as(task, actor) or any(_can_act_as(task, p) for p in actor.on_behalf)


def acting_for(task: HumanTaskInfo | HumanTask, actor: ActorRef) -> int | None:
    """Whose step the actor would be doing: None for their own, else the principal they stand in for."""
    if _can_act_as(task, actor):
        return None
    return next((p.user_id for p in actor.on_behalf if _can_act_as(task, p)), None)


def _can_act_as(task: HumanTaskInfo | HumanTask, actor: ActorRef) -> bool:
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


# -- the per-process cache of deserialised workflows -------------------------------------------
@dataclass
class _Loaded:
    """A workflow as the database holds it at one revision, plus where its next task row goes."""

    run: WorkflowRun
    next_seq: int
    ref: InstanceRef


class _RunCache:
    """Deserialised workflows by instance id, each valid for exactly one committed revision.

    Several app nodes share the database, so an entry is only a guess: a step uses it only when the
    revision it read under the instance lock equals the entry's. Entries enter only after their
    transaction commits and are popped by the step that uses them, so a failed step, a rollback or a
    concurrent step on this node never sees a workflow that differs from the row it was checked against.
    """

    def __init__(self, size: int = 1024):
        self.size = size
        self._items: OrderedDict[int, tuple[int, _Loaded]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: int, revision: int) -> _Loaded | None:
        with self._lock:
            entry = self._items.pop(instance_id, None)
        return entry[1] if entry is not None and entry[0] == revision else None

    def put(self, instance_id: int, revision: int, loaded: _Loaded) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[instance_id] = (revision, loaded)
            self._items.move_to_end(instance_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_run_cache = _RunCache()
_PENDING = "qlvb.workflow.pending_runs"


def configure_run_cache(size: int) -> None:
    """Set how many workflows a process keeps deserialised (0 turns the cache off) and empty it."""
    _run_cache.size = max(0, int(size))
    _run_cache.clear()


def clear_run_cache() -> None:
    _run_cache.clear()


@event.listens_for(Session, "after_commit")
def _install_committed_runs(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        for instance_id, (revision, loaded) in pending.items():
            _run_cache.put(instance_id, revision, loaded)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_runs(session: Session, previous_transaction: Any) -> None:
    # Any rollback, a savepoint's included, may have undone a step: keep nothing from this transaction.
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_unfinished_runs(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction ended without after_commit (close, rollback)
        session.info.pop(_PENDING, None)


def _keep_after_commit(instance_id: int, revision: int, loaded: _Loaded) -> None:
    db.session.info.setdefault(_PENDING, {})[instance_id] = (revision, loaded)


def _take_pending(instance_id: int, revision: int) -> _Loaded | None:
    pending = db.session.info.get(_PENDING)
    entry = pending.pop(instance_id, None) if pending else None
    return entry[1] if entry is not None and entry[0] == revision else None


# -- running -------------------------------------------------------------------------------
_pi = ProcessInstance.__table__
_ht = HumanTask.__table__
_ev = InstanceEvent.__table__
_ts = WorkflowTaskState.__table__
_CONFLICT = "Công việc này đã được xử lý bởi người khác hoặc hồ sơ vừa thay đổi; vui lòng tải lại trang"

# The step's statements, built once: constructing a Core statement costs more than running it on SQLite.
_LOCK_BY_ID = select(_pi).where(_pi.c.id == bindparam("b_instance_id")).with_for_update()
_STEP_TASKS = select(_ht).where(
    _ht.c.instance_id == bindparam("b_instance_id"), or_(_ht.c.state == "open", _ht.c.id == bindparam("b_task_id"))
)
# The lock and the step's task rows in one round trip. Under contention PostgreSQL re-reads only the locked
# row once the holder commits (EvalPlanQual): the joined task rows, and the second, unlocked copy of the
# instance row ("seen"), stay as the statement's snapshot had them. A revision that moved in between
# therefore shows as revision != seen_revision, and the step reads its task rows again (_STEP_TASKS).
_seen = _pi.alias("seen")
_TASK_COLUMNS = tuple(_ht.c.keys())
_LOCK_WITH_TASKS = (
    select(_pi, _seen.c.revision.label("seen_revision"), *[c.label(f"t_{c.name}") for c in _ht.c])
    .join(_seen, _seen.c.id == _pi.c.id)
    .outerjoin(_ht, (_ht.c.instance_id == _pi.c.id) & or_(_ht.c.state == "open", _ht.c.id == bindparam("b_task_id")))
    .where(_pi.c.id == select(_ht.c.instance_id).where(_ht.c.id == bindparam("b_task_id")).scalar_subquery())
    .with_for_update(of=_pi)
)
_OPEN_TASK_IDS = select(_ht.c.id, _ht.c.task_uuid).where(
    _ht.c.instance_id == bindparam("b_instance_id"), _ht.c.state == "open"
)
_TASK_ROWS = (
    select(_ts.c.task_uuid, _ts.c.seq, _ts.c.state_json)
    .where(_ts.c.instance_id == bindparam("b_instance_id"))
    .order_by(_ts.c.seq)
)
_INSERT_INSTANCE = insert(_pi).returning(_pi.c.id)


def _exec(statement: Any, params: Any = None) -> Any:
    """Run on the session's connection (same transaction) without the ORM's per-statement machinery."""
    return db.session.connection().execute(statement, params)


def _ref(instance: Any) -> InstanceRef:
    return InstanceRef(
        instance_id=instance.id,
        agency_id=instance.agency_id,
        process_key=instance.process_key,
        subject_type=instance.subject_type,
        subject_id=instance.subject_id,
        version_id=instance.version_id,
    )


def _load(instance: Any) -> _Loaded:
    """Rebuild the workflow from its task rows (the cold path: cost grows with the instance)."""
    diagram = _diagram_for_version(instance.version_id, (instance.meta or {}).get("sha256"))
    rows = _exec(_TASK_ROWS, {"b_instance_id": instance.id}).all()
    state = WorkflowState(meta=instance.state_meta, tasks={r.task_uuid: r.state_json for r in rows})
    ref = _ref(instance)
    return _Loaded(restore_run(diagram, state, ref), rows[-1].seq + 1 if rows else 1, ref)


def _loaded_for_step(instance: Any) -> _Loaded:
    loaded = _take_pending(instance.id, instance.revision) or _run_cache.take(instance.id, instance.revision)
    # Belt and braces: a reused id (SQLite after a delete) must also match what the run was built for.
    if loaded is not None and loaded.ref == _ref(instance):
        return loaded
    return _load(instance)


def _lock_with_tasks(human_task_id: int) -> list[Any]:
    """The task's instance row, locked, joined with its open tasks and the task itself (see _LOCK_WITH_TASKS)."""
    db.session.flush()
    return list(_exec(_LOCK_WITH_TASKS, {"b_task_id": human_task_id}))


def _lock_instance(statement: Any, params: dict[str, Any]) -> Any:
    """The instance row, locked until commit on PostgreSQL (SQLite relies on the revision check).

    Pending ORM changes of the caller are flushed first: the step's Core statements must see them.
    """
    db.session.flush()
    return _exec(statement, params).one_or_none()


def _event_row(instance_id: int, kind: str, at: dt.datetime, *, actor_id: int | None = None,
               task_name: str | None = None, bpmn_id: str | None = None, comment: str | None = None,
               data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"instance_id": instance_id, "at": at, "actor_id": actor_id, "kind": kind, "task_name": task_name,
            "bpmn_id": bpmn_id, "comment": comment, "data": data}


def _task_rows(loaded: _Loaded, changes: WorkflowChanges) -> list[dict[str, Any]]:
    """New engine tasks get the next sequence numbers (restore order); changed ones keep theirs (seq 0)."""
    rows = []
    for uid, task_json in changes.added.items():
        rows.append({"task_uuid": uid, "seq": loaded.next_seq, "state_json": task_json})
        loaded.next_seq += 1
    rows.extend({"task_uuid": uid, "seq": 0, "state_json": task_json} for uid, task_json in changes.changed.items())
    return rows


def _human_task_row(instance: Any, ready: ReadyTaskInfo, now: dt.datetime) -> dict[str, Any]:
    return {
        "agency_id": instance.agency_id, "task_uuid": ready.task_uuid, "bpmn_id": ready.bpmn_id, "name": ready.name,
        "process_key": instance.process_key, "subject_type": instance.subject_type,
        "subject_id": instance.subject_id, "form_key": ready.form_key, "step_kind": ready.step_kind,
        "candidate_role": ready.lane,
        "candidate_department_id": ready.candidate_department_id, "candidate_user_id": ready.candidate_user_id,
        "due_at": ready.due_at, "created_at": now,
    }


def _write_step(instance: Any, loaded: _Loaded, open_before: Mapping[str, int], first_event: dict[str, Any] | None,
                actor_id: int | None, *, done: DoneMark | None = None, completed: HumanTaskInfo | None = None,
                decision: Any = None) -> InstanceInfo:
    """Persist one step (see step_writes): one statement on PostgreSQL, one per table elsewhere."""
    run = loaded.run
    changes = run.dump_changes()
    now = clock.now()
    finished = run.completed and instance.status == "running"
    status = "completed" if finished else instance.status
    completed_at = now if finished else instance.completed_at
    revision = instance.revision + 1

    ready = run.ready_task_uuids()
    kept = [task_id for uid, task_id in open_before.items() if uid in ready]
    gone = [task_id for uid, task_id in open_before.items() if uid not in ready]
    # Only new tasks need their assignment and due date worked out (the working-day calendar is not free).
    fresh = run.describe_ready([uid for uid in ready if uid not in open_before])
    new_rows = [_human_task_row(instance, r, now) for r in fresh]

    events = []
    if first_event is not None:
        if first_event["kind"] == "completed":
            first_event["kind"] = _completion_kind(run, completed, decision, [f.task_uuid for f in fresh])
        events.append(first_event)
    events.extend(_event_row(instance.id, "operation", now, actor_id=actor_id, data={"operation": name})
                  for name in run.take_operations_called())
    events.extend(_event_row(instance.id, "opened", now, task_name=f.name, bpmn_id=f.bpmn_id) for f in fresh)
    if finished:
        events.append(_event_row(instance.id, "finished", now, actor_id=actor_id))

    outcome = write_step(db.session.connection(), StepWrite(
        instance_id=instance.id, revision=instance.revision, done=done,
        instance_values={"revision": revision, "state_meta": changes.meta, "updated_at": now,
                         "next_timer_at": run.next_timer_at(), "status": status, "completed_at": completed_at},
        task_rows=_task_rows(loaded, changes), removed_task_uuids=changes.removed, cancelled_task_ids=gone,
        new_tasks=new_rows, events=[{k: v for k, v in e.items() if k != "instance_id"} for e in events],
    ))
    if not (outcome.done_ok and outcome.moved):
        raise StepTakenError(_CONFLICT)
    fresh_ids = [outcome.new_task_ids[row["task_uuid"]] for row in new_rows]
    if completed is not None and signals.task_completed.receivers:
        signals.task_completed.send("workflow", task=completed)
    if signals.task_opened.receivers:
        for task_id, row in zip(fresh_ids, new_rows, strict=True):
            signals.task_opened.send("workflow", task=task_info(SimpleNamespace(
                id=task_id, instance_id=instance.id, claimed_by_id=None, state="open", completed_at=None,
                completed_by_id=None, form_data=None, comment=None, **row)))
    _keep_after_commit(instance.id, revision, loaded)
    info = InstanceInfo(
        id=instance.id,
        agency_id=instance.agency_id,
        process_key=instance.process_key,
        version_id=instance.version_id,
        subject_type=instance.subject_type,
        subject_id=instance.subject_id,
        status=status,
        revision=revision,
        started_by_id=instance.started_by_id,
        started_at=instance.started_at,
        completed_at=completed_at,
        open_task_ids=tuple(sorted(kept + fresh_ids)),
    )
    if finished:
        hook = steps.completion_hook(instance.process_key, instance.subject_type)
        if hook is not None:
            hook(info)
    return info


def _completion_kind(run: WorkflowRun, completed: HumanTaskInfo | None, decision: Any,
                     fresh_uuids: list[str]) -> str:
    """How the timeline names a completion: a return sends the route back; doing a step again after a
    return is a resubmission (not another return)."""
    if isinstance(decision, str) and decision in _RETURN_DECISIONS:
        return "returned"
    if completed is not None and run.repeated(completed.task_uuid):
        return "resubmitted"
    if run.reopened(fresh_uuids):
        return "returned"
    return "completed"


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


_CURRENT_PUBLISHED = (
    select(ProcessVersion.id, ProcessVersion.number, ProcessVersion.sha256)
    .where(
        ProcessVersion.process_key == bindparam("b_key"),
        ProcessVersion.status == "published",
        or_(ProcessVersion.agency_id == bindparam("b_agency_id"), ProcessVersion.agency_id.is_(None)),
    )
    .order_by(ProcessVersion.agency_id.is_(None), ProcessVersion.number.desc())
    .limit(1)
)


def _current_published(agency_id: int, process_key: str) -> Any:
    """The agency's newest published version, else the newest template, in one indexed query."""
    row = _exec(_CURRENT_PUBLISHED, {"b_key": process_key, "b_agency_id": agency_id}).one_or_none()
    if row is None:
        raise NotFoundError(f'Chưa có quy trình "{process_key}" nào được ban hành cho cơ quan này')
    return row


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
    version = _current_published(agency_id, process_key)
    diagram = _diagram_for_version(version.id, version.sha256)
    now = clock.now()
    values = {
        "agency_id": agency_id, "process_key": process_key, "version_id": version.id,
        "subject_type": subject_type, "subject_id": subject_id, "status": "running", "revision": 1,
        "started_by_id": actor.user_id, "started_at": now, "completed_at": None, "updated_at": now,
        "next_timer_at": None, "state_meta": "{}",
        "meta": {"version_number": version.number, "sha256": version.sha256},
    }
    db.session.flush()
    instance_id = _exec(_INSERT_INSTANCE, values).scalar_one()
    instance = SimpleNamespace(id=instance_id, **values)
    initial = {"initiator_id": actor.user_id, "initiator_department_id": actor.department_id, **dict(data)}
    ref = _ref(instance)
    run = start_run(diagram, initial, ref)
    started = _event_row(instance_id, "started", now, actor_id=actor.user_id)
    return _write_step(instance, _Loaded(run, 1, ref), {}, started, actor.user_id)


def complete_task(
    human_task_id: int,
    actor: ActorRef,
    form_data: Mapping[str, Any],
    *,
    comment: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    known: HumanTaskInfo | None = None,
) -> InstanceInfo:
    """Complete an open task for ``actor``, with the domain effects its step kind declares.

    ``known``: the task as the caller read it in this same transaction (a page that just showed it), so it is not
    read twice; what decides the race is the locked re-read of the instance and its tasks, not this copy.

    The handler registered for the task's process and step kind (workflow/steps.py) runs first, in the
    same transaction: it takes its own locks (the document before the instance, as every path does),
    performs the kind's effects and proceeds with the engine step; ``inputs`` carries what the page
    posted besides the form (files, a PIN, a confirmation) to it. Without a handler the step only moves
    the engine. Exactly one of two concurrent completions wins: on PostgreSQL the instance row lock makes
    the loser wait, then see the task done; on SQLite (no row locks) the loser's UPDATE of the task or
    instance finds the row moved on (optimistic lock).
    """
    active = _handling.get()
    if active is not None and active[0] == human_task_id:
        # A handler that reuses a domain service which itself completes the step: that call is its proceed.
        return active[1](form_data)
    row: Any = known if known is not None and known.id == human_task_id else _exec(
        select(_ht).where(_ht.c.id == bindparam("b_task_id")), {"b_task_id": human_task_id}).one_or_none()
    if row is None:
        raise NotFoundError("Không tìm thấy công việc")
    handler = steps.step_handler(row.process_key, row.step_kind, row.subject_type)
    if handler is None:
        return _complete_engine_step(human_task_id, actor, form_data, comment)
    if row.state != "open":
        raise StepTakenError(_CONFLICT)
    if not can_act(row, actor):
        raise PermissionDeniedError(f'Bạn không có quyền xử lý công việc "{row.name}"')
    # The handler (and the domain services it calls) see whom a deputy acts for, to say so in their history.
    actor = replace(actor, acting_for=acting_for(row, actor))
    proceeded: list[InstanceInfo] = []

    def proceed(data: Mapping[str, Any]) -> InstanceInfo:
        if proceeded:
            raise RuntimeError(f"step handler {row.process_key}/{row.step_kind} proceeded twice")
        proceeded.append(_complete_engine_step(human_task_id, actor, data, comment))
        return proceeded[0]

    context = steps.StepContext(task=row if isinstance(row, HumanTaskInfo) else task_info(row), actor=actor,
                                data=form_data, comment=comment,
                                inputs=dict(inputs or {}))
    token = _handling.set((human_task_id, proceed))
    try:
        handler(context, proceed)
    finally:
        _handling.reset(token)
    if not proceeded:
        raise RuntimeError(f"step handler {row.process_key}/{row.step_kind} did not complete the step")
    return proceeded[0]


def _complete_engine_step(
    human_task_id: int, actor: ActorRef, form_data: Mapping[str, Any], comment: str | None
) -> InstanceInfo:
    try:
        return _complete_task(human_task_id, actor, form_data, comment)
    except IntegrityError:
        # A racing completion may hit the inbox's unique key before the revision check.
        raise StepTakenError(_CONFLICT) from None


def _complete_task(
    human_task_id: int, actor: ActorRef, form_data: Mapping[str, Any], comment: str | None
) -> InstanceInfo:
    joined = _lock_with_tasks(human_task_id)
    if not joined:
        raise NotFoundError("Không tìm thấy công việc")
    instance = joined[0]
    if instance.revision == instance.seen_revision:
        rows = [SimpleNamespace(**{name: row[f"t_{name}"] for name in _TASK_COLUMNS})
                for row in (r._mapping for r in joined) if row["t_id"] is not None]
    else:  # the previous holder committed while this step waited: read the rows it left
        rows = _exec(_STEP_TASKS, {"b_instance_id": instance.id, "b_task_id": human_task_id}).all()
    task = next((row for row in rows if row.id == human_task_id), None)
    if task is None or task.state != "open" or instance.status != "running":
        raise StepTakenError(_CONFLICT)
    if not can_act(task, actor):
        raise PermissionDeniedError(f'Bạn không có quyền xử lý công việc "{task.name}"')
    principal = acting_for(task, actor)
    _check_form_data(form_data)
    loaded = _loaded_for_step(instance)
    loaded.run.complete_task(task.task_uuid, form_data)
    now = clock.now()
    stored_form = json.loads(json.dumps(dict(form_data), default=str))
    completed = replace(task_info(task), state="done", completed_at=now, completed_by_id=actor.user_id,
                        form_data=stored_form, comment=comment, on_behalf_of_id=principal)
    decision = form_data.get("decision")
    event_data: dict[str, Any] = {"decision": decision} if decision is not None else {}
    if principal is not None:
        event_data["on_behalf_of"] = principal
    first = _event_row(instance.id, "completed", now, actor_id=actor.user_id, task_name=task.name,
                       bpmn_id=task.bpmn_id, comment=comment, data=event_data or None)
    open_before = {row.task_uuid: row.id for row in rows if row.state == "open" and row.id != human_task_id}
    return _write_step(instance, loaded, open_before, first, actor.user_id, decision=decision, completed=completed,
                       done=DoneMark(human_task_id, now, actor.user_id, stored_form, comment, principal))


def claim_task(human_task_id: int, actor: ActorRef) -> HumanTaskInfo:
    """Take an open group task so colleagues see someone is on it."""
    task = db.session.execute(select(_ht).where(_ht.c.id == human_task_id).with_for_update()).one_or_none()
    if task is None:
        raise NotFoundError("Không tìm thấy công việc")
    if task.state != "open":
        raise ConflictError(
            "Công việc này đã được xử lý bởi người khác hoặc không còn hiệu lực; vui lòng tải lại trang"
        )
    if task.claimed_by_id is not None and task.claimed_by_id != actor.user_id:
        raise ConflictError("Công việc này đã có người khác nhận xử lý")
    if not can_act(task, actor):
        raise PermissionDeniedError(f'Bạn không có quyền nhận công việc "{task.name}"')
    info = task_info(task)
    if task.claimed_by_id is None:
        claimed = db.session.execute(
            update(_ht)
            .where(_ht.c.id == human_task_id, _ht.c.state == "open", _ht.c.claimed_by_id.is_(None))
            .values(claimed_by_id=actor.user_id)
        )
        if claimed.rowcount != 1:
            raise ConflictError("Công việc này đã có người khác nhận xử lý")
        principal = acting_for(task, actor)
        db.session.execute(insert(_ev), [_event_row(
            task.instance_id, "claimed", clock.now(), actor_id=actor.user_id, task_name=task.name,
            bpmn_id=task.bpmn_id, data={"on_behalf_of": principal} if principal is not None else None)])
        info = replace(info, claimed_by_id=actor.user_id)
    return info


def mark_tasks_read(task_ids: Collection[int], actor: ActorRef) -> int:
    """Record that the actor has seen these tasks (theirs, or of someone they stand in for); return how many
    were new to them. Tasks of another agency or another person's are skipped, as if absent."""
    ids = sorted({int(i) for i in task_ids})
    if not ids:
        return 0
    rows = db.session.execute(select(_ht).where(_ht.c.id.in_(ids), _ht.c.agency_id == actor.agency_id)).all()
    visible = [r.id for r in rows if can_act(r, actor) or r.completed_by_id == actor.user_id]
    if not visible:
        return 0
    seen = set(db.session.scalars(select(TaskRead.human_task_id).where(
        TaskRead.user_id == actor.user_id, TaskRead.human_task_id.in_(visible))))
    fresh = [{"user_id": actor.user_id, "human_task_id": i, "read_at": clock.now()} for i in visible if i not in seen]
    if fresh:
        db.session.execute(insert(TaskRead.__table__), fresh)
    return len(fresh)


def cancel_instance(instance_id: int, actor: ActorRef, *, comment: str | None = None) -> InstanceInfo:
    instance = _lock_instance(_LOCK_BY_ID, {"b_instance_id": instance_id})
    if instance is None:
        raise NotFoundError("Không tìm thấy hồ sơ quy trình")
    if instance.agency_id != actor.agency_id:
        raise PermissionDeniedError("Không có quyền hủy quy trình của cơ quan khác")
    if instance.status != "running":
        raise ConflictError("Quy trình đã kết thúc")
    now = clock.now()
    db.session.execute(
        update(_ht).where(_ht.c.instance_id == instance_id, _ht.c.state == "open")
        .values(state="cancelled", completed_at=now)
    )
    moved = db.session.execute(
        update(_pi).where(_pi.c.id == instance_id, _pi.c.revision == instance.revision)
        .values(status="cancelled", completed_at=now, updated_at=now, next_timer_at=None,
                revision=instance.revision + 1)
    )
    if moved.rowcount != 1:
        raise StepTakenError(_CONFLICT)
    db.session.execute(insert(_ev), [_event_row(instance_id, "cancelled", now, actor_id=actor.user_id,
                                                comment=comment)])
    return replace(instance_info(instance), status="cancelled", completed_at=now, revision=instance.revision + 1)


# -- timers --------------------------------------------------------------------------------
def refresh_timers(instance_id: int) -> InstanceInfo:
    """Let fired timers move the instance on (called by the timer job)."""
    instance = _lock_instance(_LOCK_BY_ID, {"b_instance_id": instance_id})
    if instance is None:
        raise NotFoundError("Không tìm thấy hồ sơ quy trình")
    open_rows = _exec(_OPEN_TASK_IDS, {"b_instance_id": instance_id}).all()
    if instance.status != "running":
        return instance_info(instance, [row.id for row in open_rows])
    loaded = _loaded_for_step(instance)
    loaded.run.refresh_timers()
    return _write_step(instance, loaded, {row.task_uuid: row.id for row in open_rows}, None, None)


def skip_failed_element(instance_id: int, bpmn_id: str) -> InstanceInfo:
    """Complete the automatic element an incident names without running it, and let the instance go on."""
    instance = _lock_instance(_LOCK_BY_ID, {"b_instance_id": instance_id})
    if instance is None:
        raise NotFoundError("Không tìm thấy hồ sơ quy trình")
    if instance.status != "running":
        raise ConflictError("Quy trình đã kết thúc")
    open_rows = _exec(_OPEN_TASK_IDS, {"b_instance_id": instance_id}).all()
    loaded = _load(instance)  # never a cached run: the failed attempt may have left one half-moved
    loaded.run.skip_element(bpmn_id)
    return _write_step(instance, loaded, {row.task_uuid: row.id for row in open_rows}, None, None)


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
