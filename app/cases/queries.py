"""What staff see of cases: their own and those they have a step on, never another agency's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, or_, select

from app.core.errors import NotFoundError
from app.designer.definitions import SUBJECT_TYPE
from app.extensions import db
from app.workflow.info import ActorRef
from app.workflow.models import HumanTask, ProcessInstance

from .models import Case

STATUS_LABELS = {"running": "Đang xử lý", "completed": "Đã hoàn thành", "cancelled": "Đã hủy"}


@dataclass(frozen=True)
class CaseInfo:
    id: int
    agency_id: int
    process_key: str
    title: str
    data: dict[str, Any]
    instance_id: int | None
    created_by_id: int | None
    created_at: dt.datetime
    status: str
    status_label: str


def _visible(actor: ActorRef) -> Any:
    """The creator, anyone who has or had a step on it, and the agency's leaders and admins."""
    involved = exists().where(HumanTask.subject_type == SUBJECT_TYPE, HumanTask.subject_id == Case.id,
                              HumanTask.agency_id == actor.agency_id,
                              or_(HumanTask.candidate_user_id == actor.user_id,
                                  HumanTask.claimed_by_id == actor.user_id,
                                  HumanTask.completed_by_id == actor.user_id,
                                  (HumanTask.state == "open") & HumanTask.candidate_user_id.is_(None)
                                  & HumanTask.candidate_role.in_(sorted(actor.roles) or [""])))
    clauses = [Case.created_by_id == actor.user_id, involved]
    if {"leader", "agency_admin"} & actor.roles:
        clauses.append(Case.agency_id == actor.agency_id)
    return (Case.agency_id == actor.agency_id) & or_(*clauses)


def _info(case: Case, status: str | None) -> CaseInfo:
    status = status or "running"
    return CaseInfo(id=case.id, agency_id=case.agency_id, process_key=case.process_key, title=case.title,
                    data=dict(case.data or {}), instance_id=case.instance_id, created_by_id=case.created_by_id,
                    created_at=case.created_at, status=status, status_label=STATUS_LABELS.get(status, "Đang xử lý"))


def list_cases(actor: ActorRef, *, limit: int = 100) -> list[CaseInfo]:
    rows = db.session.execute(
        select(Case, ProcessInstance.status).outerjoin(ProcessInstance, ProcessInstance.id == Case.instance_id)
        .where(_visible(actor)).order_by(Case.id.desc()).limit(limit)).all()
    return [_info(c, s) for c, s in rows]


def get_case(actor: ActorRef, case_id: int) -> CaseInfo:
    row = db.session.execute(
        select(Case, ProcessInstance.status).outerjoin(ProcessInstance, ProcessInstance.id == Case.instance_id)
        .where(Case.id == case_id, _visible(actor))).first()
    if row is None:
        raise NotFoundError("Không tìm thấy hồ sơ hoặc bạn không có quyền xem")
    return _info(row[0], row[1])


def cases_by_ids(agency_id: int, ids: list[int]) -> list[Case]:
    return list(db.session.scalars(select(Case).where(Case.agency_id == agency_id, Case.id.in_(ids))))
