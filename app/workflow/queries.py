"""Read-only questions about workflows. The inbox reads the human_task projection only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, or_, select

from app.core import clock
from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.workflow.info import ActorRef, DiagramStateInfo, EventInfo, HumanTaskInfo, InstanceInfo
from app.workflow.models import HumanTask, InstanceEvent, ProcessInstance, ProcessVersion
from app.workflow.services import _restore, instance_info, task_info

BUCKETS = ("todo", "in_progress", "overdue", "done")
MAX_PAGE = 200


def _candidate_clause(actor: ActorRef) -> Any:
    by_user = HumanTask.candidate_user_id == actor.user_id
    by_role = and_(
        HumanTask.candidate_user_id.is_(None),
        HumanTask.candidate_role.in_(sorted(actor.roles)) if actor.roles else False,
        or_(
            HumanTask.candidate_department_id.is_(None),
            HumanTask.candidate_department_id == actor.department_id
            if actor.department_id is not None
            else False,
        ),
    )
    return and_(
        or_(by_user, by_role),
        or_(HumanTask.claimed_by_id.is_(None), HumanTask.claimed_by_id == actor.user_id),
    )


def _inbox_query(actor: ActorRef, bucket: str, now: dt.datetime) -> Any:
    if bucket not in BUCKETS:
        raise ValidationError(f'Nhóm công việc "{bucket}" không hợp lệ')
    query = select(HumanTask).where(HumanTask.agency_id == actor.agency_id)
    if bucket == "done":
        return query.where(HumanTask.completed_by_id == actor.user_id, HumanTask.state == "done")
    query = query.where(HumanTask.state == "open")
    if bucket == "in_progress":
        return query.where(HumanTask.claimed_by_id == actor.user_id)
    query = query.where(_candidate_clause(actor))
    if bucket == "overdue":
        return query.where(HumanTask.due_at < now)
    return query.where(
        HumanTask.claimed_by_id.is_(None), or_(HumanTask.due_at.is_(None), HumanTask.due_at >= now)
    )


def inbox(
    actor: ActorRef, bucket: str = "todo", limit: int = 50, offset: int = 0, *, now: dt.datetime | None = None
) -> list[HumanTaskInfo]:
    """One page of the actor's tasks: todo, in_progress (claimed), overdue or done."""
    query = _inbox_query(actor, bucket, now or clock.now())
    if bucket == "done":
        query = query.order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
    else:
        query = query.order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.id.asc())
    query = query.limit(max(1, min(limit, MAX_PAGE))).offset(max(0, offset))
    return [task_info(row) for row in db.session.scalars(query)]


def count_inbox(actor: ActorRef, bucket: str = "todo", *, now: dt.datetime | None = None) -> int:
    query = _inbox_query(actor, bucket, now or clock.now())
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def get_task(human_task_id: int) -> HumanTaskInfo:
    row = db.session.get(HumanTask, human_task_id)
    if row is None:
        raise NotFoundError("Không tìm thấy công việc")
    return task_info(row)


def get_instance(instance_id: int) -> InstanceInfo:
    row = db.session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFoundError("Không tìm thấy hồ sơ quy trình")
    open_ids = db.session.scalars(
        select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
    )
    return instance_info(row, list(open_ids))


def open_tasks(instance_id: int) -> list[HumanTaskInfo]:
    rows = db.session.scalars(
        select(HumanTask)
        .where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
        .order_by(HumanTask.id)
    )
    return [task_info(row) for row in rows]


def instance_timeline(instance_id: int) -> list[EventInfo]:
    rows = db.session.scalars(
        select(InstanceEvent).where(InstanceEvent.instance_id == instance_id).order_by(InstanceEvent.at, InstanceEvent.id)
    )
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
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFoundError("Không tìm thấy hồ sơ quy trình")
    xml = db.session.scalar(select(ProcessVersion.bpmn_xml).where(ProcessVersion.id == instance.version_id))
    run, _ = _restore(instance)
    active = frozenset() if instance.status != "running" else frozenset(run.active_bpmn_ids())
    return DiagramStateInfo(bpmn_xml=xml or "", done_ids=frozenset(run.completed_bpmn_ids()), active_ids=active)


def instances_for_subject(subject_type: str, subject_id: int, *, agency_id: int | None = None) -> list[InstanceInfo]:
    query = select(ProcessInstance).where(
        ProcessInstance.subject_type == subject_type, ProcessInstance.subject_id == subject_id
    )
    if agency_id is not None:
        query = query.where(ProcessInstance.agency_id == agency_id)
    return [instance_info(row) for row in db.session.scalars(query.order_by(ProcessInstance.id))]
