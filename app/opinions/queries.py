"""Read-only questions about opinion requests: lists, the consolidated table, who may see what, reminders due."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select

from app.core import clock
from app.core.text import fold
from app.extensions import db
from app.tenancy import roles as R
from app.tenancy.models import Agency, Staff
from app.workflow.info import ActorRef

from .models import OpinionFile, OpinionRequest, OpinionReviewer

ANSWERS = {
    "agree": "Đồng ý",
    "agree_with_comments": "Đồng ý có ý kiến",
    "disagree": "Không đồng ý",
}
LISTS = ("to_answer", "mine", "answered")
# Reviewers who have not answered are reminded from this many days before the deadline (and on the day).
REMIND_DAYS_BEFORE = 1


@dataclass(frozen=True)
class OpinionFileInfo:
    id: int
    filename: str
    content_type: str
    size: int
    reviewer_id: int | None


@dataclass(frozen=True)
class ReviewerInfo:
    id: int
    agency_id: int
    agency_name: str
    user_id: int | None
    name: str  # the person, or "Lãnh đạo <agency>" when the agency was asked
    external: bool
    answer: str | None
    comment: str | None
    answered_by_id: int | None
    answered_by_name: str | None
    answered_at: dt.datetime | None
    files: tuple[OpinionFileInfo, ...] = ()

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def answer_label(self) -> str:
        return ANSWERS.get(self.answer or "", "")


@dataclass(frozen=True)
class OpinionRequestInfo:
    id: int
    agency_id: int
    title: str
    content: str
    requester_id: int
    requester_name: str
    deadline: dt.date
    status: str
    summary: str | None
    instance_id: int | None
    origin_reviewer_id: int | None
    origin_agency_id: int | None
    origin_agency_name: str | None
    created_at: dt.datetime
    consolidated_at: dt.datetime | None
    answered_count: int
    reviewer_count: int

    @property
    def is_copy(self) -> bool:
        return self.origin_reviewer_id is not None

    @property
    def overdue(self) -> bool:
        return self.status == "open" and self.deadline < clock.today()


@dataclass(frozen=True)
class OpinionDetail:
    request: OpinionRequestInfo
    reviewers: tuple[ReviewerInfo, ...]
    files: tuple[OpinionFileInfo, ...]  # the draft and documents sent with the request

    @property
    def not_answered(self) -> tuple[ReviewerInfo, ...]:
        return tuple(r for r in self.reviewers if not r.answered)


@dataclass(frozen=True)
class ReminderInfo:
    """One reviewer to remind: ``user_ids`` are the person, or the leaders of the agency asked."""

    reviewer_id: int
    request_id: int
    agency_id: int
    user_ids: tuple[int, ...]
    title: str
    deadline: dt.date


def _names(user_ids: Iterable[int | None]) -> dict[int, str]:
    ids = sorted({u for u in user_ids if u is not None})
    if not ids:
        return {}
    return dict(db.session.execute(select(Staff.user_id, Staff.full_name).where(Staff.user_id.in_(ids))).all())


def _agency_names(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return dict(db.session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(wanted))).all())


def _file_info(f: OpinionFile) -> OpinionFileInfo:
    return OpinionFileInfo(f.id, f.filename, f.content_type, f.size, f.reviewer_id)


def request_info(row: OpinionRequest, names: dict[int, str] | None = None,
                 agencies: dict[int, str] | None = None) -> OpinionRequestInfo:
    names = names if names is not None else _names([row.requester_id])
    agencies = agencies if agencies is not None else _agency_names([row.origin_agency_id])
    return OpinionRequestInfo(
        id=row.id, agency_id=row.agency_id, title=row.title, content=row.content, requester_id=row.requester_id,
        requester_name=names.get(row.requester_id, ""), deadline=row.deadline, status=row.status,
        summary=row.summary, instance_id=row.instance_id, origin_reviewer_id=row.origin_reviewer_id,
        origin_agency_id=row.origin_agency_id,
        origin_agency_name=agencies.get(row.origin_agency_id) if row.origin_agency_id else None,
        created_at=row.created_at, consolidated_at=row.consolidated_at,
        answered_count=sum(1 for r in row.reviewers if r.answered_at is not None),
        reviewer_count=len(row.reviewers),
    )


def _visible_clause(actor: ActorRef) -> object:
    """The requester, the people asked and, where an agency (no person) was asked, its leaders."""
    asked = exists().where(OpinionReviewer.request_id == OpinionRequest.id, OpinionReviewer.user_id == actor.user_id)
    clauses = [OpinionRequest.requester_id == actor.user_id, asked]
    if R.LEADER in actor.roles:
        clauses.append(exists().where(OpinionReviewer.request_id == OpinionRequest.id,
                                      OpinionReviewer.user_id.is_(None),
                                      OpinionRequest.origin_reviewer_id.is_not(None)))
    return or_(*clauses)


def _to_answer_clause(actor: ActorRef) -> object:
    mine = OpinionReviewer.user_id == actor.user_id
    if R.LEADER in actor.roles:
        mine = or_(mine, OpinionReviewer.user_id.is_(None))
    return exists().where(OpinionReviewer.request_id == OpinionRequest.id, OpinionReviewer.agency_id == actor.agency_id,
                          OpinionReviewer.external.is_(False), OpinionReviewer.answered_at.is_(None), mine)


def _list_query(actor: ActorRef, which: str) -> object:
    query = select(OpinionRequest).where(OpinionRequest.agency_id == actor.agency_id)
    if which == "mine":
        return query.where(OpinionRequest.requester_id == actor.user_id, OpinionRequest.origin_reviewer_id.is_(None))
    if which == "answered":
        return query.where(exists().where(OpinionReviewer.request_id == OpinionRequest.id,
                                          OpinionReviewer.answered_by_id == actor.user_id))
    return query.where(OpinionRequest.status == "open", _to_answer_clause(actor))


def list_requests(actor: ActorRef, which: str = "to_answer", *, limit: int = 50,
                  offset: int = 0) -> list[OpinionRequestInfo]:
    if which not in LISTS:
        which = "to_answer"
    query = _list_query(actor, which).order_by(  # type: ignore[attr-defined]
        (OpinionRequest.status == "open").desc(), OpinionRequest.deadline.asc(), OpinionRequest.id.desc()
    ).limit(max(1, min(limit, 200))).offset(max(0, offset))
    rows = list(db.session.scalars(query))
    names = _names(r.requester_id for r in rows)
    agencies = _agency_names(r.origin_agency_id for r in rows)
    return [request_info(r, names, agencies) for r in rows]


def count_requests(actor: ActorRef, which: str) -> int:
    query = _list_query(actor, which)
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0  # type: ignore[attr-defined]


def can_see(actor: ActorRef, request_id: int) -> bool:
    return db.session.scalar(
        select(OpinionRequest.id).where(OpinionRequest.id == request_id, OpinionRequest.agency_id == actor.agency_id,
                                        _visible_clause(actor))) is not None


def opinion_detail(actor: ActorRef, request_id: int) -> OpinionDetail | None:
    """The request and its consolidated answers, or None when missing or not the actor's to see."""
    if not can_see(actor, request_id):
        return None
    row = db.session.get(OpinionRequest, request_id)
    assert row is not None
    reviewers = list(row.reviewers)
    names = _names([row.requester_id, *(r.user_id for r in reviewers), *(r.answered_by_id for r in reviewers)])
    agencies = _agency_names([row.origin_agency_id, *(r.agency_id for r in reviewers)])
    files_by_reviewer: dict[int | None, list[OpinionFileInfo]] = {}
    for f in row.files:
        files_by_reviewer.setdefault(f.reviewer_id, []).append(_file_info(f))
    out = []
    for r in reviewers:
        agency_name = agencies.get(r.agency_id, "")
        name = names.get(r.user_id, "") if r.user_id is not None else f"Lãnh đạo {agency_name}"
        out.append(ReviewerInfo(
            id=r.id, agency_id=r.agency_id, agency_name=agency_name, user_id=r.user_id, name=name,
            external=r.external, answer=r.answer, comment=r.comment, answered_by_id=r.answered_by_id,
            answered_by_name=names.get(r.answered_by_id) if r.answered_by_id else None, answered_at=r.answered_at,
            files=tuple(files_by_reviewer.get(r.id, ())),
        ))
    return OpinionDetail(request=request_info(row, names, agencies), reviewers=tuple(out),
                         files=tuple(files_by_reviewer.get(None, ())))


def file_for(actor: ActorRef, request_id: int, file_id: int) -> OpinionFile | None:
    if not can_see(actor, request_id):
        return None
    return db.session.scalar(select(OpinionFile).where(OpinionFile.id == file_id, OpinionFile.request_id == request_id))


def describe(agency_id: int, ids: Iterable[int]) -> dict[int, tuple[str, dt.date, str | None]]:
    """Title, deadline and requesting agency (for copies) of requests of one agency, for the inbox."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = list(db.session.scalars(
        select(OpinionRequest).where(OpinionRequest.agency_id == agency_id, OpinionRequest.id.in_(wanted))))
    agencies = _agency_names(r.origin_agency_id for r in rows)
    return {r.id: (r.title, r.deadline, agencies.get(r.origin_agency_id) if r.origin_agency_id else None)
            for r in rows}


def opinion_reminders_due(now: dt.datetime | None = None) -> list[ReminderInfo]:
    """Reviewers who have not answered a request whose deadline is today or within REMIND_DAYS_BEFORE days.

    External reviewers are reminded in their own agency, through the reviewer row of their copy.
    """
    today = (now or clock.now()).astimezone(clock.VN_TZ).date()
    rows = db.session.execute(
        select(OpinionReviewer.id, OpinionReviewer.request_id, OpinionReviewer.agency_id, OpinionReviewer.user_id,
               OpinionRequest.title, OpinionRequest.deadline)
        .join(OpinionRequest, OpinionRequest.id == OpinionReviewer.request_id)
        .where(OpinionRequest.status == "open", OpinionReviewer.external.is_(False),
               OpinionReviewer.answered_at.is_(None), OpinionRequest.deadline >= today,
               OpinionRequest.deadline <= today + dt.timedelta(days=REMIND_DAYS_BEFORE))
        .order_by(OpinionRequest.deadline, OpinionReviewer.id)
    ).all()
    out = []
    for r in rows:
        users: tuple[int, ...]
        if r.user_id is not None:
            users = (r.user_id,)
        else:
            from app.tenancy.queries import staff_of

            users = tuple(s.user_id for s in staff_of(r.agency_id, role=R.LEADER))
        out.append(ReminderInfo(r.id, r.request_id, r.agency_id, users, r.title, r.deadline))
    return out


@dataclass(frozen=True)
class ExternalChoiceInfo:
    """Another agency the requester may ask, with its leaders (asked by name) — ``people`` is (user_id, label)."""

    code: str
    name: str
    people: tuple[tuple[int, str], ...]


def is_external_reviewer(agency_id: int, user_id: int) -> bool:
    """Whether ``user_id`` is one of the people ``external_choices`` offers for that agency (an active leader)."""
    user_cls = Staff.user.property.mapper.class_
    role_cls = user_cls.roles.property.mapper.class_
    return db.session.scalar(
        select(Staff.user_id).join(user_cls, user_cls.id == Staff.user_id).join(user_cls.roles)
        .where(Staff.user_id == user_id, Staff.agency_id == agency_id, Staff.active.is_(True),
               role_cls.name == R.LEADER).limit(1)) is not None


def external_choices(agency_id: int) -> list[ExternalChoiceInfo]:
    """Every other active agency of the province and its leaders, in two queries."""
    user_cls = Staff.user.property.mapper.class_
    role_cls = user_cls.roles.property.mapper.class_
    agencies = list(db.session.execute(
        select(Agency.id, Agency.code, Agency.name)
        .where(Agency.active.is_(True), Agency.is_central.is_(False), Agency.id != agency_id).order_by(Agency.name)))
    leaders = db.session.execute(
        select(Staff.agency_id, Staff.user_id, Staff.full_name)
        .join(user_cls, user_cls.id == Staff.user_id).join(user_cls.roles)
        .where(Staff.active.is_(True), Staff.agency_id != agency_id, role_cls.name == R.LEADER)
        .order_by(Staff.full_name)).all()
    by_agency: dict[int, list[tuple[int, str]]] = {}
    for row in leaders:
        by_agency.setdefault(row.agency_id, []).append((row.user_id, row.full_name))
    agencies.sort(key=lambda a: fold(a.name))
    return [ExternalChoiceInfo(a.code, a.name, tuple(sorted(by_agency.get(a.id, ()), key=lambda p: fold(p[1]))))
            for a in agencies]
