"""Write one workflow step: the task marked done, the instance row, engine task rows, inbox rows, timeline.

``write_step`` takes the whole write set of a step, computed beforehand, and sends it in as few round
trips as the database allows. PostgreSQL gets one statement (data-modifying CTEs, rows passed as JSON
arrays): a step costs one round trip whatever it touches, where separate statements cost eight. Other
databases (SQLite, embedded, no network) get one Core statement per table.

The caller checks the outcome (``StepOutcome``) and raises when the task or the instance moved on; the
request's rollback then undoes everything, on both paths alike.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import DateTime, Integer, Text, bindparam, delete, insert, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from app.workflow.models import HumanTask, InstanceEvent, ProcessInstance, WorkflowTaskState

_pi = ProcessInstance.__table__
_ht = HumanTask.__table__
_ev = InstanceEvent.__table__
_ts = WorkflowTaskState.__table__


@dataclass(frozen=True)
class DoneMark:
    """The human task the step completes (absent when a step starts an instance or fires a timer)."""

    task_id: int
    at: dt.datetime
    user_id: int
    form_data: dict[str, Any]
    comment: str | None
    on_behalf_of_id: int | None = None  # the principal a deputy completes the step for


@dataclass
class StepWrite:
    instance_id: int
    revision: int  # the revision read under the lock; the write expects it unchanged
    instance_values: dict[str, Any]  # new revision, state_meta, updated_at, next_timer_at, status, completed_at
    done: DoneMark | None = None
    task_rows: list[dict[str, Any]] = field(default_factory=list)  # {task_uuid, seq, state_json}; seq 0 = update
    removed_task_uuids: tuple[str, ...] = ()
    cancelled_task_ids: list[int] = field(default_factory=list)
    new_tasks: list[dict[str, Any]] = field(default_factory=list)  # full human_task rows, state "open"
    events: list[dict[str, Any]] = field(default_factory=list)  # full instance_event rows


@dataclass(frozen=True)
class StepOutcome:
    done_ok: bool  # the task was still open (True when the step completes no task)
    moved: bool  # the instance row was still at the revision read
    new_task_ids: dict[str, int]  # task_uuid -> human_task.id of the opened tasks


def write_step(conn: Connection, step: StepWrite) -> StepOutcome:
    if conn.dialect.name == "postgresql":
        return _write_postgresql(conn, step)
    return _write_statements(conn, step)


# -- PostgreSQL: one statement ---------------------------------------------------------------------------
_STEP_SQL = text("""
WITH done AS (
    UPDATE human_task SET state = 'done', completed_at = :done_at, completed_by_id = :done_by,
           form_data = CAST(:form_data AS jsonb), comment = :comment, on_behalf_of_id = :on_behalf
    WHERE id = :task_id AND state = 'open'
    RETURNING id
), moved AS (
    UPDATE process_instance SET revision = :new_revision, state_meta = :state_meta, updated_at = :updated_at,
           next_timer_at = :next_timer_at, status = :status, completed_at = :completed_at
    WHERE id = :instance_id AND revision = :revision
    RETURNING id
), saved AS (
    INSERT INTO workflow_task_state (instance_id, task_uuid, seq, state_json)
    SELECT :instance_id, r.task_uuid, r.seq, r.state_json
    FROM jsonb_to_recordset(CAST(:task_rows AS jsonb)) AS r(task_uuid text, seq integer, state_json text)
    ON CONFLICT (instance_id, task_uuid) DO UPDATE SET state_json = excluded.state_json
), removed AS (
    DELETE FROM workflow_task_state
    WHERE instance_id = :instance_id AND task_uuid = ANY(CAST(:removed AS text[]))
), cancelled AS (
    UPDATE human_task SET state = 'cancelled', completed_at = :updated_at
    WHERE id = ANY(CAST(:cancelled AS bigint[])) AND state = 'open'
), opened AS (
    INSERT INTO human_task (agency_id, instance_id, task_uuid, bpmn_id, name, process_key, subject_type,
                            subject_id, form_key, step_kind, candidate_role, candidate_department_id,
                            candidate_user_id, state, due_at, created_at)
    SELECT r.agency_id, :instance_id, r.task_uuid, r.bpmn_id, r.name, r.process_key, r.subject_type, r.subject_id,
           r.form_key, r.step_kind, r.candidate_role, r.candidate_department_id, r.candidate_user_id, 'open', r.due_at,
           r.created_at
    FROM jsonb_to_recordset(CAST(:new_tasks AS jsonb)) AS r(
        agency_id integer, task_uuid text, bpmn_id text, name text, process_key text, subject_type text,
        subject_id bigint, form_key text, step_kind text, candidate_role text, candidate_department_id integer,
        candidate_user_id integer, due_at timestamptz, created_at timestamptz)
    RETURNING id, task_uuid
), logged AS (
    INSERT INTO instance_event (instance_id, at, actor_id, kind, task_name, bpmn_id, comment, data)
    SELECT :instance_id, r.at, r.actor_id, r.kind, r.task_name, r.bpmn_id, r.comment, r.data
    FROM jsonb_to_recordset(CAST(:events AS jsonb)) AS r(
        at timestamptz, actor_id integer, kind text, task_name text, bpmn_id text, comment text, data jsonb)
)
SELECT (SELECT count(*) FROM done) AS done, (SELECT count(*) FROM moved) AS moved,
       (SELECT coalesce(json_agg(json_build_array(task_uuid, id)), '[]') FROM opened)::text AS opened
""").bindparams(
    bindparam("done_at", type_=DateTime(timezone=True)), bindparam("updated_at", type_=DateTime(timezone=True)),
    bindparam("next_timer_at", type_=DateTime(timezone=True)),
    bindparam("completed_at", type_=DateTime(timezone=True)), bindparam("task_id", type_=Integer),
    bindparam("done_by", type_=Integer), bindparam("comment", type_=Text), bindparam("on_behalf", type_=Integer),
)


def _json(value: Any) -> str:
    return json.dumps(value, default=_iso, separators=(",", ":"), ensure_ascii=False)


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _write_postgresql(conn: Connection, step: StepWrite) -> StepOutcome:
    done = step.done
    values = step.instance_values
    row = conn.execute(_STEP_SQL, {
        "task_id": done.task_id if done else None, "done_at": done.at if done else None,
        "done_by": done.user_id if done else None, "form_data": _json(done.form_data) if done else None,
        "comment": done.comment if done else None, "on_behalf": done.on_behalf_of_id if done else None,
        "instance_id": step.instance_id, "revision": step.revision, "new_revision": values["revision"],
        "state_meta": values["state_meta"], "updated_at": values["updated_at"],
        "next_timer_at": values["next_timer_at"], "status": values["status"], "completed_at": values["completed_at"],
        "task_rows": _json(step.task_rows), "removed": list(step.removed_task_uuids),
        "cancelled": step.cancelled_task_ids, "new_tasks": _json(step.new_tasks), "events": _json(step.events),
    }).one()
    opened = {uuid: task_id for uuid, task_id in json.loads(row.opened)}
    return StepOutcome(done_ok=done is None or row.done == 1, moved=row.moved == 1, new_task_ids=opened)


# -- other databases: one statement per table --------------------------------------------------------------
_MARK_DONE = (
    update(_ht)
    .where(_ht.c.id == bindparam("b_task_id"), _ht.c.state == "open")
    .values(state="done", completed_at=bindparam("b_now"), completed_by_id=bindparam("b_user_id"),
            form_data=bindparam("b_form_data", type_=_ht.c.form_data.type), comment=bindparam("b_comment"),
            on_behalf_of_id=bindparam("b_on_behalf"))
)
_BUMP_INSTANCE = (
    update(_pi)
    .where(_pi.c.id == bindparam("b_id"), _pi.c.revision == bindparam("b_revision"))
    .values(revision=bindparam("b_new_revision"), state_meta=bindparam("b_meta"), updated_at=bindparam("b_now"),
            next_timer_at=bindparam("b_timer"), status=bindparam("b_status"),
            completed_at=bindparam("b_completed_at"))
)
_INSERT_HUMAN_TASKS = insert(_ht).returning(_ht.c.id, sort_by_parameter_order=True)
_INSERT_EVENTS = insert(_ev)
_UPDATE_TASK_ROW = (
    update(_ts)
    .where(_ts.c.instance_id == bindparam("b_instance_id"), _ts.c.task_uuid == bindparam("b_uuid"))
    .values(state_json=bindparam("state_json"))
)


def _sqlite_upsert() -> Any:
    stmt = sqlite_insert(_ts)
    return stmt.on_conflict_do_update(
        index_elements=[_ts.c.instance_id, _ts.c.task_uuid], set_={"state_json": stmt.excluded.state_json}
    )


# PostgreSQL never comes here (its step is one statement above).
_UPSERT_TASK_ROWS = {"sqlite": _sqlite_upsert()}


def _write_statements(conn: Connection, step: StepWrite) -> StepOutcome:
    done = step.done
    if done is not None:
        marked = conn.execute(_MARK_DONE, {"b_task_id": done.task_id, "b_now": done.at, "b_user_id": done.user_id,
                                           "b_form_data": done.form_data, "b_comment": done.comment,
                                           "b_on_behalf": done.on_behalf_of_id})
        if marked.rowcount != 1:
            return StepOutcome(done_ok=False, moved=False, new_task_ids={})
    values = step.instance_values
    moved = conn.execute(_BUMP_INSTANCE, {
        "b_id": step.instance_id, "b_revision": step.revision, "b_new_revision": values["revision"],
        "b_meta": values["state_meta"], "b_now": values["updated_at"], "b_timer": values["next_timer_at"],
        "b_status": values["status"], "b_completed_at": values["completed_at"],
    })
    if moved.rowcount != 1:
        return StepOutcome(done_ok=True, moved=False, new_task_ids={})
    _write_task_rows(conn, step)
    if step.cancelled_task_ids:
        conn.execute(update(_ht).where(_ht.c.id.in_(step.cancelled_task_ids), _ht.c.state == "open")
                     .values(state="cancelled", completed_at=values["updated_at"]))
    new_ids: dict[str, int] = {}
    if step.new_tasks:
        rows = [{**row, "instance_id": step.instance_id, "state": "open", "claimed_by_id": None,
                 "completed_at": None, "completed_by_id": None, "form_data": None, "comment": None,
                 "on_behalf_of_id": None}
                for row in step.new_tasks]
        ids = conn.execute(_INSERT_HUMAN_TASKS, rows).scalars().all()
        new_ids = {row["task_uuid"]: task_id for row, task_id in zip(rows, ids, strict=True)}
    if step.events:
        conn.execute(_INSERT_EVENTS, [{**event, "instance_id": step.instance_id} for event in step.events])
    return StepOutcome(done_ok=True, moved=True, new_task_ids=new_ids)


def _write_task_rows(conn: Connection, step: StepWrite) -> None:
    rows = [{"instance_id": step.instance_id, **row} for row in step.task_rows]
    if rows:
        upsert = _UPSERT_TASK_ROWS.get(conn.dialect.name)
        if upsert is not None:
            conn.execute(upsert, rows)
        else:  # a database without ON CONFLICT: inserts for new rows (seq > 0), updates for the rest
            added = [r for r in rows if r["seq"] > 0]
            if added:
                conn.execute(insert(_ts), added)
            changed = [{"b_instance_id": step.instance_id, "b_uuid": r["task_uuid"], "state_json": r["state_json"]}
                       for r in rows if r["seq"] == 0]
            if changed:
                conn.execute(_UPDATE_TASK_ROW, changed)
    if step.removed_task_uuids:
        conn.execute(delete(_ts).where(_ts.c.instance_id == step.instance_id,
                                       _ts.c.task_uuid.in_(step.removed_task_uuids)))
