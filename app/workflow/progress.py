"""Read-only views across instances: an instance's steps, and what is late in an agency (leaders)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.core import clock
from app.extensions import db
from app.workflow.info import HumanTaskInfo
from app.workflow.models import HumanTask
from app.workflow.services import task_info


def tasks_of_instance(instance_id: int) -> list[HumanTaskInfo]:
    """Every human step of an instance, open and done, in the order they were opened."""
    rows = db.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance_id).order_by(HumanTask.created_at, HumanTask.id))
    return [task_info(r) for r in rows]


def agency_overdue(agency_id: int, *, now: dt.datetime | None = None, limit: int = 200) -> list[HumanTaskInfo]:
    """Open steps past their due time in one agency, most late first (the leader's progress view)."""
    now = now or clock.now()
    rows = db.session.scalars(
        select(HumanTask)
        .where(HumanTask.agency_id == agency_id, HumanTask.state == "open", HumanTask.due_at < now)
        .order_by(HumanTask.due_at.asc())
        .limit(limit))
    return [task_info(r) for r in rows]


def agency_open(agency_id: int, *, limit: int = 500) -> list[HumanTaskInfo]:
    rows = db.session.scalars(
        select(HumanTask)
        .where(HumanTask.agency_id == agency_id, HumanTask.state == "open")
        .order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.id)
        .limit(limit))
    return [task_info(r) for r in rows]
