"""Read-only questions about delegations: whom a deputy stands in for today, a person's delegations, and what
deputies did on a principal's behalf."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_appbuilder.security.sqla.models import Role, assoc_user_role
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased

from app.core import clock
from app.extensions import db
from app.tenancy.models import Staff
from app.workflow.info import ActorRef
from app.workflow.models import HumanTask

from .models import Delegation


@dataclass(frozen=True)
class DelegationInfo:
    id: int
    agency_id: int
    principal_id: int
    principal_name: str
    deputy_id: int
    deputy_name: str
    starts_on: dt.date
    ends_on: dt.date
    reason: str
    ended_at: dt.datetime | None
    created_at: dt.datetime

    def state(self, today: dt.date) -> str:
        """upcoming | active | ended (by hand, or the period is over)."""
        if self.ended_at is not None or self.ends_on < today:
            return "ended"
        return "upcoming" if self.starts_on > today else "active"


@dataclass(frozen=True)
class DoneOnBehalfInfo:
    task_id: int
    task_name: str
    process_key: str
    subject_type: str
    subject_id: int
    deputy_id: int
    deputy_name: str
    completed_at: dt.datetime
    comment: str | None


def _active(today: dt.date) -> Any:
    return and_(Delegation.ended_at.is_(None), Delegation.starts_on <= today, Delegation.ends_on >= today)


def acting_flag(user_id_column: Any, today: dt.date | None = None) -> Any:
    """A column for a request's first query: is this user anybody's deputy today? (usually not: no more work)."""
    return exists().where(Delegation.deputy_id == user_id_column, _active(today or clock.today())).label(
        "qlvb_is_deputy")


def principals_of(deputy_id: int, agency_id: int, *, today: dt.date | None = None) -> tuple[ActorRef, ...]:
    """Every active principal the deputy stands in for today, as that person would act (roles, department).

    One query. A principal whose account was revoked or moved to another agency counts no longer."""
    day = today or clock.today()
    rows = db.session.execute(
        select(Delegation.principal_id, Staff.department_id, Role.name)
        .join(Staff, and_(Staff.user_id == Delegation.principal_id, Staff.agency_id == agency_id,
                          Staff.active.is_(True)))
        .outerjoin(assoc_user_role, assoc_user_role.c.user_id == Delegation.principal_id)
        .outerjoin(Role, Role.id == assoc_user_role.c.role_id)
        .where(Delegation.deputy_id == deputy_id, Delegation.agency_id == agency_id, _active(day))
        .order_by(Delegation.principal_id)
    ).all()
    found: dict[int, tuple[int | None, set[str]]] = {}
    for principal_id, department_id, role in rows:
        entry = found.setdefault(principal_id, (department_id, set()))
        if role:
            entry[1].add(role)
    return tuple(ActorRef(user_id=uid, agency_id=agency_id, roles=frozenset(roles), department_id=dept)
                 for uid, (dept, roles) in found.items())


def _infos(where: Any, limit: int = 100) -> list[DelegationInfo]:
    principal, deputy = aliased(Staff), aliased(Staff)
    rows = db.session.execute(
        select(Delegation, principal.full_name, deputy.full_name)
        .join(principal, principal.user_id == Delegation.principal_id)
        .join(deputy, deputy.user_id == Delegation.deputy_id)
        .where(where)
        .order_by(Delegation.starts_on.desc(), Delegation.id.desc())
        .limit(limit)
    ).all()
    return [DelegationInfo(id=d.id, agency_id=d.agency_id, principal_id=d.principal_id, principal_name=pn,
                           deputy_id=d.deputy_id, deputy_name=dn, starts_on=d.starts_on, ends_on=d.ends_on,
                           reason=d.reason, ended_at=d.ended_at, created_at=d.created_at) for d, pn, dn in rows]


def delegations_of(user_id: int, agency_id: int) -> list[DelegationInfo]:
    """The delegations a person gave or received, newest first."""
    return _infos(and_(Delegation.agency_id == agency_id,
                       or_(Delegation.principal_id == user_id, Delegation.deputy_id == user_id)))


def delegations_of_agency(agency_id: int, *, limit: int = 200) -> list[DelegationInfo]:
    return _infos(Delegation.agency_id == agency_id, limit)


def get_delegation(delegation_id: int, agency_id: int) -> DelegationInfo | None:
    found = _infos(and_(Delegation.id == delegation_id, Delegation.agency_id == agency_id), 1)
    return found[0] if found else None


def done_on_behalf(principal_id: int, agency_id: int, *, limit: int = 100) -> list[DoneOnBehalfInfo]:
    """The steps deputies completed for this person, newest first."""
    rows = db.session.execute(
        select(HumanTask.id, HumanTask.name, HumanTask.process_key, HumanTask.subject_type, HumanTask.subject_id,
               HumanTask.completed_by_id, Staff.full_name, HumanTask.completed_at, HumanTask.comment)
        .join(Staff, Staff.user_id == HumanTask.completed_by_id)
        .where(HumanTask.on_behalf_of_id == principal_id, HumanTask.agency_id == agency_id,
               HumanTask.state == "done")
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
        .limit(limit)
    ).all()
    return [DoneOnBehalfInfo(*row) for row in rows]


def deputies_for(agency_id: int, principal_ids: list[int], *, today: dt.date | None = None) -> list[int]:
    """Who stands in today for any of these people (to tell them of a step that opened for the principal)."""
    if not principal_ids:
        return []
    active = _active(today or clock.today())
    return sorted(set(db.session.scalars(select(Delegation.deputy_id).where(
        Delegation.agency_id == agency_id, Delegation.principal_id.in_(principal_ids), active))))
