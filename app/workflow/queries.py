"""Read-only questions about workflows. The inbox reads the human_task projection only.

Reads go through Core (not the ORM identity map) so they always see what the services just wrote.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, or_, select, union_all

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


def _candidate_branches(actor: ActorRef) -> list[Any]:
    """Mutually exclusive ways a task can be the actor's, each matching one partial index exactly.

    ``user OR (role AND (no department OR my department))`` as one predicate makes PostgreSQL scan and
    sort every open task of the agency; split per role and department, each branch is a short index range
    already in inbox order, so the page costs the same at 100 thousand tasks as at 10 million.
    """
    branches = [_ht.c.candidate_user_id == actor.user_id]
    for role in sorted(actor.roles):
        by_role = and_(_ht.c.candidate_user_id.is_(None), _ht.c.candidate_role == role)
        branches.append(and_(by_role, _ht.c.candidate_department_id.is_(None)))
        if actor.department_id is not None:
            branches.append(and_(by_role, _ht.c.candidate_department_id == actor.department_id))
    return branches


def _branches(actor: ActorRef, bucket: str, now: dt.datetime) -> list[Any]:
    """The WHERE clauses, one per UNION ALL branch, of a bucket (disjoint, so no duplicates)."""
    if bucket not in BUCKETS:
        raise ValidationError(f'Nhóm công việc "{bucket}" không hợp lệ')
    agency = _ht.c.agency_id == actor.agency_id
    if bucket == "done":
        return [and_(agency, _ht.c.state == "done", _ht.c.completed_by_id == actor.user_id)]
    open_ = and_(agency, _ht.c.state == "open")
    if bucket == "in_progress":
        return [and_(open_, _ht.c.claimed_by_id == actor.user_id)]
    candidates = _candidate_branches(actor)
    if bucket == "overdue":
        mine = or_(_ht.c.claimed_by_id.is_(None), _ht.c.claimed_by_id == actor.user_id)
        return [and_(open_, c, mine, _ht.c.due_at < now) for c in candidates]
    # Due today or later, then no deadline: two ranges of the same index instead of an OR.
    unclaimed = _ht.c.claimed_by_id.is_(None)
    return [
        and_(open_, c, unclaimed, due)
        for c in candidates
        for due in (_ht.c.due_at >= now, _ht.c.due_at.is_(None))
    ]


def _order(bucket: str, table: Any) -> list[Any]:
    if bucket == "done":
        return [table.c.completed_at.desc(), table.c.id.desc()]
    return [table.c.due_at.asc().nulls_last(), table.c.id.asc()]


def _page_query(actor: ActorRef, bucket: str, limit: int, offset: int, now: dt.datetime) -> Any:
    branches = _branches(actor, bucket, now)
    if len(branches) == 1:
        return select(_ht).where(branches[0]).order_by(*_order(bucket, _ht)).limit(limit).offset(offset)
    # Each branch returns at most one page (from its index, in order); the outer sort merges them.
    top = limit + offset
    parts = [select(_ht).where(b).order_by(*_order(bucket, _ht)).limit(top).subquery() for b in branches]
    merged = union_all(*(select(p) for p in parts)).subquery()
    return select(merged).order_by(*_order(bucket, merged)).limit(limit).offset(offset)


def inbox(
    actor: ActorRef, bucket: str = "todo", limit: int = 50, offset: int = 0, *, now: dt.datetime | None = None
) -> list[HumanTaskInfo]:
    """One page of the actor's tasks: todo, in_progress (claimed), overdue or done."""
    query = _page_query(actor, bucket, max(1, min(limit, MAX_PAGE)), max(0, offset), now or clock.now())
    return [task_info(row) for row in db.session.execute(query)]


def count_inbox(actor: ActorRef, bucket: str = "todo", *, now: dt.datetime | None = None) -> int:
    branches = _branches(actor, bucket, now or clock.now())
    parts = [select(_ht.c.id).where(b) for b in branches]
    merged = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    return db.session.scalar(select(func.count()).select_from(merged)) or 0


def get_task(human_task_id: int) -> HumanTaskInfo:
    row = db.session.execute(select(_ht).where(_ht.c.id == human_task_id)).one_or_none()
    if row is None:
        raise NotFoundError("Không tìm thấy công việc")
    return task_info(row)


def get_instance(instance_id: int) -> InstanceInfo:
    row = db.session.execute(select(_pi).where(_pi.c.id == instance_id)).one_or_none()
    if row is None:
        raise NotFoundError("Không tìm thấy hồ sơ quy trình")
    open_ids = db.session.scalars(select(_ht.c.id).where(_ht.c.instance_id == instance_id, _ht.c.state == "open"))
    return instance_info(row, list(open_ids))


def open_tasks(instance_id: int) -> list[HumanTaskInfo]:
    rows = db.session.execute(
        select(_ht).where(_ht.c.instance_id == instance_id, _ht.c.state == "open").order_by(_ht.c.id)
    )
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


def instance_progress(instance_id: int) -> DiagramStateInfo:
    """The diagram of the version the instance runs on, with done and active element ids."""
    instance = db.session.execute(select(_pi).where(_pi.c.id == instance_id)).one_or_none()
    if instance is None:
        raise NotFoundError("Không tìm thấy hồ sơ quy trình")
    xml = db.session.scalar(select(ProcessVersion.bpmn_xml).where(ProcessVersion.id == instance.version_id))
    run = _load(instance).run
    active = frozenset() if instance.status != "running" else frozenset(run.active_bpmn_ids())
    return DiagramStateInfo(bpmn_xml=xml or "", done_ids=frozenset(run.completed_bpmn_ids()), active_ids=active)


def instances_for_subject(subject_type: str, subject_id: int, *, agency_id: int | None = None) -> list[InstanceInfo]:
    query = select(_pi).where(_pi.c.subject_type == subject_type, _pi.c.subject_id == subject_id)
    if agency_id is not None:
        query = query.where(_pi.c.agency_id == agency_id)
    return [instance_info(row) for row in db.session.execute(query.order_by(_pi.c.id))]
