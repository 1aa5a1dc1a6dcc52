"""Read-only views across instances: an instance's steps, and what is late in an agency (leaders)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.core import clock
from app.extensions import db
from app.workflow.info import HumanTaskInfo
from app.workflow.models import HumanTask
from app.workflow.services import task_info

# Core reads (not the ORM identity map): always what the services just wrote.
_ht = HumanTask.__table__


def tasks_of_instance(instance_id: int) -> list[HumanTaskInfo]:
    """Every human step of an instance, open and done, in the order they were opened."""
    rows = db.session.execute(
        select(_ht).where(_ht.c.instance_id == instance_id).order_by(_ht.c.created_at, _ht.c.id))
    return [task_info(r) for r in rows]


def agency_overdue(agency_id: int, *, now: dt.datetime | None = None, limit: int = 200) -> list[HumanTaskInfo]:
    """Open steps past their due time in one agency, most late first (the leader's progress view)."""
    now = now or clock.now()
    rows = db.session.execute(
        select(_ht)
        .where(_ht.c.agency_id == agency_id, _ht.c.state == "open", _ht.c.due_at < now)
        .order_by(_ht.c.due_at.asc(), _ht.c.id)
        .limit(limit))
    return [task_info(r) for r in rows]


def agency_open(agency_id: int, *, limit: int = 500) -> list[HumanTaskInfo]:
    rows = db.session.execute(
        select(_ht)
        .where(_ht.c.agency_id == agency_id, _ht.c.state == "open")
        .order_by(_ht.c.due_at.asc().nulls_last(), _ht.c.id)
        .limit(limit))
    return [task_info(r) for r in rows]
