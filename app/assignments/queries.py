"""Read-only questions about assigned work: lists per person, overdue work, one item with its history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select

from app.core import clock
from app.extensions import db
from app.tenancy import roles as R
from app.workflow.info import ActorRef

from .models import WorkExtension, WorkFile, WorkItem, WorkLink, WorkMember

LISTS = ("assigned_to_me", "assigned_by_me", "overdue", "all")
PAGE_MAX = 200


@dataclass(frozen=True)
class WorkReportInfo:
    id: int
    percent: int
    note: str
    reported_by_id: int
    reported_at: dt.datetime


@dataclass(frozen=True)
class WorkExtensionInfo:
    id: int
    old_deadline: dt.date
    new_deadline: dt.date
    reason: str
    requested_by_id: int
    requested_at: dt.datetime
    status: str
    decided_by_id: int | None
    decided_at: dt.datetime | None
    decision_comment: str | None


@dataclass(frozen=True)
class WorkFileInfo:
    id: int
    filename: str
    content_type: str
    size: int
    report_id: int | None
    uploaded_by_id: int | None
    created_at: dt.datetime


@dataclass(frozen=True)
class WorkItemInfo:
    id: int
    agency_id: int
    title: str
    description: str
    assigned_by_id: int
    lead_user_id: int
    lead_department_id: int | None
    deadline: dt.date
    original_deadline: dt.date
    percent: int
    status: str
    rating: str | None
    evaluation_comment: str | None
    attachments_note: str
    instance_id: int | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    evaluated_at: dt.datetime | None
    coordinating_user_ids: tuple[int, ...] = ()
    coordinating_department_ids: tuple[int, ...] = ()

    @property
    def overdue(self) -> bool:
        return self.status == "open" and self.deadline < clock.today()

    @property
    def days_left(self) -> int:
        return (self.deadline - clock.today()).days


@dataclass(frozen=True)
class WorkItemDetail:
    item: WorkItemInfo
    reports: tuple[WorkReportInfo, ...]
    extensions: tuple[WorkExtensionInfo, ...]
    links: tuple[tuple[str, int], ...]
    files: tuple[WorkFileInfo, ...]


def work_item_info(row: WorkItem) -> WorkItemInfo:
    return WorkItemInfo(
        id=row.id, agency_id=row.agency_id, title=row.title, description=row.description,
        assigned_by_id=row.assigned_by_id, lead_user_id=row.lead_user_id, lead_department_id=row.lead_department_id,
        deadline=row.deadline, original_deadline=row.original_deadline, percent=row.percent, status=row.status,
        rating=row.rating, evaluation_comment=row.evaluation_comment, attachments_note=row.attachments_note,
        instance_id=row.instance_id, created_at=row.created_at, finished_at=row.finished_at,
        evaluated_at=row.evaluated_at,
        coordinating_user_ids=tuple(m.ref_id for m in row.members if m.kind == "user"),
        coordinating_department_ids=tuple(m.ref_id for m in row.members if m.kind == "department"),
    )


def _involved_clause(actor: ActorRef) -> object:
    """Who may see an item: its assigner, lead, coordinators, heads of its departments; leaders see all."""
    if R.LEADER in actor.roles:
        return True
    member = exists().where(WorkMember.work_item_id == WorkItem.id, WorkMember.kind == "user",
                            WorkMember.ref_id == actor.user_id)
    clauses = [WorkItem.assigned_by_id == actor.user_id, WorkItem.lead_user_id == actor.user_id, member]
    if R.HEAD in actor.roles and actor.department_id is not None:
        clauses.append(WorkItem.lead_department_id == actor.department_id)
        clauses.append(exists().where(WorkMember.work_item_id == WorkItem.id, WorkMember.kind == "department",
                                      WorkMember.ref_id == actor.department_id))
    return or_(*clauses)


def _list_query(actor: ActorRef, which: str, today: dt.date) -> object:
    query = select(WorkItem).where(WorkItem.agency_id == actor.agency_id)
    if which == "assigned_to_me":
        member = exists().where(WorkMember.work_item_id == WorkItem.id, WorkMember.kind == "user",
                                WorkMember.ref_id == actor.user_id)
        return query.where(or_(WorkItem.lead_user_id == actor.user_id, member))
    if which == "assigned_by_me":
        return query.where(WorkItem.assigned_by_id == actor.user_id)
    if which == "overdue":
        return query.where(WorkItem.status == "open", WorkItem.deadline < today, _involved_clause(actor))
    return query.where(_involved_clause(actor))


def list_work_items(actor: ActorRef, which: str = "assigned_to_me", *, status: str | None = None, limit: int = 50,
                    offset: int = 0, today: dt.date | None = None) -> list[WorkItemInfo]:
    """One page of a list: assigned_to_me, assigned_by_me, overdue (leaders: the whole agency), all visible."""
    if which not in LISTS:
        which = "assigned_to_me"
    day = today or clock.today()
    query = _list_query(actor, which, day)
    if status in ("open", "done", "evaluated"):
        query = query.where(WorkItem.status == status)  # type: ignore[attr-defined]
    if which == "overdue":
        query = query.order_by(WorkItem.deadline.asc(), WorkItem.id)  # type: ignore[attr-defined]
    else:
        query = query.order_by((WorkItem.status == "open").desc(), WorkItem.deadline.asc(),  # type: ignore[attr-defined]
                               WorkItem.id.desc())
    query = query.limit(max(1, min(limit, PAGE_MAX))).offset(max(0, offset))
    return [work_item_info(r) for r in db.session.scalars(query)]


def count_work_items(actor: ActorRef, which: str, *, today: dt.date | None = None) -> int:
    query = _list_query(actor, which, today or clock.today())
    if which != "overdue":
        query = query.where(WorkItem.status == "open")  # type: ignore[attr-defined]
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0  # type: ignore[attr-defined]


def can_see(actor: ActorRef, item_id: int) -> bool:
    return db.session.scalar(
        select(WorkItem.id).where(WorkItem.id == item_id, WorkItem.agency_id == actor.agency_id,
                                  _involved_clause(actor))) is not None


def get_work_item(item_id: int) -> WorkItemInfo | None:
    row = db.session.get(WorkItem, item_id)
    return work_item_info(row) if row is not None else None


def work_item_detail(actor: ActorRef, item_id: int) -> WorkItemDetail | None:
    """The item with its history, or None when it does not exist or the actor may not see it."""
    if not can_see(actor, item_id):
        return None
    row = db.session.get(WorkItem, item_id)
    assert row is not None
    return WorkItemDetail(
        item=work_item_info(row),
        reports=tuple(WorkReportInfo(r.id, r.percent, r.note, r.reported_by_id, r.reported_at) for r in row.reports),
        extensions=tuple(
            WorkExtensionInfo(e.id, e.old_deadline, e.new_deadline, e.reason, e.requested_by_id, e.requested_at,
                              e.status, e.decided_by_id, e.decided_at, e.decision_comment) for e in row.extensions),
        links=tuple((link.subject_type, link.subject_id) for link in row.links),
        files=tuple(WorkFileInfo(f.id, f.filename, f.content_type, f.size, f.report_id, f.uploaded_by_id,
                                 f.created_at) for f in row.files),
    )


def file_for(actor: ActorRef, item_id: int, file_id: int) -> WorkFile | None:
    if not can_see(actor, item_id):
        return None
    return db.session.scalar(select(WorkFile).where(WorkFile.id == file_id, WorkFile.work_item_id == item_id))


def titles(agency_id: int, ids: Iterable[int]) -> dict[int, tuple[str, dt.date, str]]:
    """Title, deadline and status of items of one agency (for the inbox)."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = db.session.execute(
        select(WorkItem.id, WorkItem.title, WorkItem.deadline, WorkItem.status)
        .where(WorkItem.agency_id == agency_id, WorkItem.id.in_(wanted)))
    return {r.id: (r.title, r.deadline, r.status) for r in rows}


def items_linked_to(subject_type: str, subject_id: int, agency_id: int) -> list[int]:
    return list(db.session.scalars(
        select(WorkLink.work_item_id).join(WorkItem, WorkItem.id == WorkLink.work_item_id)
        .where(WorkLink.subject_type == subject_type, WorkLink.subject_id == subject_id,
               WorkItem.agency_id == agency_id)))


def pending_extension(item_id: int) -> WorkExtensionInfo | None:
    e = db.session.scalar(select(WorkExtension).where(WorkExtension.work_item_id == item_id,
                                                      WorkExtension.status == "pending"))
    if e is None:
        return None
    return WorkExtensionInfo(e.id, e.old_deadline, e.new_deadline, e.reason, e.requested_by_id, e.requested_at,
                             e.status, e.decided_by_id, e.decided_at, e.decision_comment)

