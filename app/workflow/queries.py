"""Read-only questions about workflows. The inbox reads the human_task projection only.

Reads go through Core (not the ORM identity map) so they always see what the services just wrote.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, func, select, text

from app.core import clock
from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.workflow.info import ActorRef, DiagramStateInfo, EventInfo, HumanTaskInfo, InstanceInfo
from app.workflow.models import HumanTask, InstanceEvent, ProcessInstance, ProcessVersion
from app.workflow.services import _load, instance_info, task_info

BUCKETS = ("todo", "in_progress", "overdue", "done")
MAX_PAGE = 200
_ht = HumanTask.__table__
_pi = ProcessInstance.__table__
_ev = InstanceEvent.__table__


_COLUMNS = ", ".join(c.name for c in _ht.c)
_ORDER = {"done": "completed_at DESC, id DESC"}
_DUE_ORDER = "due_at ASC NULLS LAST, id ASC"


def _branches(bucket: str, roles: int, with_department: bool) -> list[str]:
    """The WHERE clauses of a bucket, one per UNION ALL branch, mutually exclusive.

    ``user OR (role AND (no department OR my department))`` as one predicate makes PostgreSQL scan and sort
    every open task of the agency; split per role and department (and due date set or not), each branch
    is one range of one partial index, already in page order, so a page costs the same at 100 thousand
    tasks as at 10 million. ``state`` is a literal, not a parameter: a prepared (generic) plan must still
    see that the partial index applies.
    """
    if bucket not in BUCKETS:
        raise ValidationError(f'Nhóm công việc "{bucket}" không hợp lệ')
    if bucket == "done":
        return ["agency_id = :agency AND state = 'done' AND completed_by_id = :user"]
    open_ = "agency_id = :agency AND state = 'open'"
    if bucket == "in_progress":
        return [f"{open_} AND claimed_by_id = :user"]
    candidates = [f"{open_} AND candidate_user_id = :user"]
    for i in range(roles):
        by_role = f"{open_} AND candidate_user_id IS NULL AND candidate_role = :role{i}"
        candidates.append(f"{by_role} AND candidate_department_id IS NULL")
        if with_department:
            candidates.append(f"{by_role} AND candidate_department_id = :department")
    if bucket == "overdue":
        return [f"{c} AND (claimed_by_id IS NULL OR claimed_by_id = :user) AND due_at < :now" for c in candidates]
    # Due now or later, then no deadline: two ranges of the same index instead of an OR.
    return [f"{c} AND claimed_by_id IS NULL AND {due}"
            for c in candidates for due in ("due_at >= :now", "due_at IS NULL")]


def _sql(*parts: str) -> str:
    # Built only from the constants above; every value is a bound parameter.
    return " ".join(parts)


def _with_now(sql: str) -> Any:
    statement = text(sql)
    return statement.bindparams(bindparam("now", type_=_ht.c.due_at.type)) if ":now" in sql else statement


def _typed(sql: str) -> Any:
    return _with_now(sql).columns(*_ht.c)


@lru_cache(maxsize=256)
def _page_sql(bucket: str, roles: int, with_department: bool) -> Any:
    """The page query of one shape, as SQL text: built once, no per-call statement compilation."""
    branches = _branches(bucket, roles, with_department)
    order = _ORDER.get(bucket, _DUE_ORDER)
    page = _sql("ORDER BY", order, "LIMIT :limit OFFSET :offset")
    if len(branches) == 1:
        return _typed(_sql("SELECT", _COLUMNS, "FROM human_task WHERE", branches[0], page))
    # Each branch returns at most one page (from its index, in order); the outer sort merges them.
    parts = " UNION ALL ".join(
        _sql("SELECT * FROM (SELECT", _COLUMNS, "FROM human_task WHERE", branch, "ORDER BY", order, "LIMIT :top)",
             f"AS b{i}")
        for i, branch in enumerate(branches)
    )
    return _typed(_sql("SELECT", _COLUMNS, "FROM (", parts, ") AS u", page))


@lru_cache(maxsize=256)
def _count_sql(bucket: str, roles: int, with_department: bool) -> Any:
    parts = " UNION ALL ".join(_sql("SELECT id FROM human_task WHERE", b)
                               for b in _branches(bucket, roles, with_department))
    return _with_now(_sql("SELECT count(*) FROM (", parts, ") AS u"))


@lru_cache(maxsize=256)
def _counts_sql(buckets: tuple[str, ...], roles: int, with_department: bool) -> Any:
    """Every bucket's count in one statement (one round trip for the inbox's tab badges)."""
    columns = ", ".join(
        _sql("(SELECT count(*) FROM (", " UNION ALL ".join(_sql("SELECT id FROM human_task WHERE", b)
                                                           for b in _branches(bucket, roles, with_department)),
             f") AS u{i}) AS c{i}")
        for i, bucket in enumerate(buckets)
    )
    return _with_now(_sql("SELECT", columns))


def _params(actor: ActorRef, now: dt.datetime) -> tuple[tuple[int, bool], dict[str, Any]]:
    roles = sorted(actor.roles)
    params: dict[str, Any] = {"agency": actor.agency_id, "user": actor.user_id, "department": actor.department_id,
                              "now": now}
    params.update({f"role{i}": role for i, role in enumerate(roles)})
    return (len(roles), actor.department_id is not None), params


def page_statement(
    actor: ActorRef, bucket: str = "todo", limit: int = 50, offset: int = 0, *, now: dt.datetime | None = None
) -> tuple[Any, dict[str, Any]]:
    """The inbox page query and its parameters (for ``inbox`` and for EXPLAIN in the benchmark)."""
    limit, offset = max(1, min(limit, MAX_PAGE)), max(0, offset)
    shape, params = _params(actor, now or clock.now())
    params.update(limit=limit, offset=offset, top=limit + offset)
    return _page_sql(bucket, *shape), params


def inbox(
    actor: ActorRef, bucket: str = "todo", limit: int = 50, offset: int = 0, *, now: dt.datetime | None = None
) -> list[HumanTaskInfo]:
    """One page of the actor's tasks: todo, in_progress (claimed), overdue or done."""
    statement, params = page_statement(actor, bucket, limit, offset, now=now)
    return [task_info(row) for row in db.session.connection().execute(statement, params)]


def count_inbox(actor: ActorRef, bucket: str = "todo", *, now: dt.datetime | None = None) -> int:
    shape, params = _params(actor, now or clock.now())
    return db.session.connection().execute(_count_sql(bucket, *shape), params).scalar() or 0


def count_inbox_buckets(actor: ActorRef, buckets: tuple[str, ...] = BUCKETS, *,
                        now: dt.datetime | None = None) -> dict[str, int]:
    """``count_inbox`` of several buckets, in one query."""
    shape, params = _params(actor, now or clock.now())
    row = db.session.connection().execute(_counts_sql(tuple(buckets), *shape), params).one()
    return {bucket: int(row[i] or 0) for i, bucket in enumerate(buckets)}


def get_task(human_task_id: int) -> HumanTaskInfo:
    row = db.session.connection().execute(_TASK, {"b_task_id": human_task_id}).one_or_none()
    if row is None:
        raise NotFoundError("Không tìm thấy công việc")
    return task_info(row)


_INSTANCE_WITH_OPEN = (
    select(_pi, _ht.c.id.label("open_task_id"))
    .outerjoin(_ht, and_(_ht.c.instance_id == _pi.c.id, _ht.c.state == "open"))
    .where(_pi.c.id == bindparam("b_instance_id"))
    .order_by(_ht.c.id)
)


def get_instance(instance_id: int) -> InstanceInfo:
    """The instance and its open steps, in one query (a row per open step)."""
    rows = db.session.connection().execute(_INSTANCE_WITH_OPEN, {"b_instance_id": instance_id}).all()
    if not rows:
        raise NotFoundError("Không tìm thấy hồ sơ quy trình")
    return instance_info(rows[0], [r.open_task_id for r in rows if r.open_task_id is not None])


_OPEN_TASKS = (
    select(_ht).where(_ht.c.instance_id == bindparam("b_instance_id"), _ht.c.state == "open").order_by(_ht.c.id)
)
_TASK = select(_ht).where(_ht.c.id == bindparam("b_task_id"))


def open_tasks(instance_id: int) -> list[HumanTaskInfo]:
    rows = db.session.connection().execute(_OPEN_TASKS, {"b_instance_id": instance_id})
    return [task_info(row) for row in rows]


def instance_timeline(instance_id: int) -> list[EventInfo]:
    rows = db.session.execute(select(_ev).where(_ev.c.instance_id == instance_id).order_by(_ev.c.at, _ev.c.id))
    return [
        EventInfo(
            id=r.id,
            instance_id=r.instance_id,
            at=r.at,
            actor_id=r.actor_id,
            kind=r.kind,
            task_name=r.task_name,
            bpmn_id=r.bpmn_id,
            comment=r.comment,
            data=r.data,
        )
        for r in rows
    ]


def instance_progress(instance_id: int, *, with_xml: bool = True) -> DiagramStateInfo:
    """The diagram of the version the instance runs on, with done and active element ids (``with_xml=False``:
    the ids only, for a page that fetches the diagram separately)."""
    instance = db.session.execute(select(_pi).where(_pi.c.id == instance_id)).one_or_none()
    if instance is None:
        raise NotFoundError("Không tìm thấy hồ sơ quy trình")
    xml = db.session.scalar(select(ProcessVersion.bpmn_xml).where(ProcessVersion.id == instance.version_id)) \
        if with_xml else None
    run = _load(instance).run
    active = frozenset() if instance.status != "running" else frozenset(run.active_bpmn_ids())
    return DiagramStateInfo(bpmn_xml=xml or "", done_ids=frozenset(run.completed_bpmn_ids()), active_ids=active)


def instances_for_subject(subject_type: str, subject_id: int, *, agency_id: int | None = None) -> list[InstanceInfo]:
    query = select(_pi).where(_pi.c.subject_type == subject_type, _pi.c.subject_id == subject_id)
    if agency_id is not None:
        query = query.where(_pi.c.agency_id == agency_id)
    return [instance_info(row) for row in db.session.execute(query.order_by(_pi.c.id))]


def agency_open_tasks(agency_id: int, *, limit: int = 50, offset: int = 0) -> tuple[list[HumanTaskInfo], int]:
    """Every open step of the agency, soonest due first (a system account's view: it holds none itself)."""
    base = select(_ht).where(_ht.c.agency_id == agency_id, _ht.c.state == "open")
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = db.session.connection().execute(
        base.order_by(_ht.c.due_at.is_(None), _ht.c.due_at, _ht.c.id).limit(max(1, min(limit, 200)))
        .offset(max(0, offset)))
    return [task_info(row) for row in rows], int(total)
