"""Reading calendars: the week view with conflicts, and event lists for the PDF and the feeds."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import or_, select

from app.core.errors import NotFoundError
from app.core.text import fold
from app.deadlines.workdays import day_kind_label
from app.extensions import db
from app.tenancy.models import Department, Staff
from app.workflow.info import ActorRef

from . import rules
from .info import CalendarRef, DayInfo, EventInfo, FeedRef, WeekInfo, WeekViewResult
from .models import DRAFT, PUBLISHED, CalendarEvent, CalendarFeed, CalendarWeek, calendar_event_participant, scope_key
from .services import event_info, week_info

LEADERSHIP_NAME = "Lãnh đạo cơ quan"


def calendars_of(agency_id: int) -> list[CalendarRef]:
    rows = db.session.execute(
        select(Department.id, Department.name)
        .where(Department.agency_id == agency_id, Department.active.is_(True))
        .order_by(Department.sort_order, Department.id)
    )
    return [CalendarRef(None, LEADERSHIP_NAME), *(CalendarRef(r.id, r.name) for r in rows)]


def calendar_ref(agency_id: int, department_id: int | None) -> CalendarRef:
    if department_id is None:
        return CalendarRef(None, LEADERSHIP_NAME)
    row = db.session.execute(select(Department.name, Department.agency_id).where(Department.id == department_id)
                             ).one_or_none()
    if row is None or row.agency_id != agency_id:
        raise NotFoundError("Không tìm thấy lịch công tác")
    return CalendarRef(department_id, row.name)


def _participants(event_ids: Iterable[int]) -> dict[int, tuple[int, ...]]:
    ids = list(event_ids)
    out: dict[int, list[int]] = defaultdict(list)
    if ids:
        rows = db.session.execute(select(calendar_event_participant).where(
            calendar_event_participant.c.event_id.in_(ids)).order_by(calendar_event_participant.c.user_id))
        for r in rows:
            out[r.event_id].append(r.user_id)
    return {k: tuple(v) for k, v in out.items()}


def _events(query: object) -> list[EventInfo]:
    rows = list(db.session.scalars(query))  # type: ignore[call-overload]
    people = _participants(r.id for r in rows)
    return [event_info(r, people.get(r.id, ())) for r in rows]


def _ordered(query: object) -> object:
    return query.order_by(CalendarEvent.day, CalendarEvent.start_time, CalendarEvent.id)  # type: ignore[attr-defined]


def events_between(agency_id: int, start: dt.date, end: dt.date, *, department_id: int | str | None = "all",
                   person_user_id: int | None = None, published_only: bool = True) -> list[EventInfo]:
    """Events of ``start``..``end`` (inclusive): of one calendar, or of every calendar (``"all"``), or of a person."""
    query = (select(CalendarEvent).join(CalendarWeek, CalendarWeek.id == CalendarEvent.week_id)
             .where(CalendarEvent.agency_id == agency_id, CalendarEvent.day >= start, CalendarEvent.day <= end))
    if department_id != "all":
        query = query.where(CalendarWeek.scope_key == scope_key(department_id))  # type: ignore[arg-type]
    if published_only:
        query = query.where(CalendarWeek.state == PUBLISHED)
    if person_user_id is not None:
        attending = select(calendar_event_participant.c.event_id).where(
            calendar_event_participant.c.user_id == person_user_id)
        query = query.where(or_(CalendarEvent.chair_user_id == person_user_id, CalendarEvent.id.in_(attending)))
    return _events(_ordered(query))


def people_names(agency_id: int, events: Iterable[EventInfo]) -> dict[int, str]:
    ids = {u for e in events for u in (*e.participant_user_ids, e.chair_user_id) if u}
    if not ids:
        return {}
    rows = db.session.execute(select(Staff.user_id, Staff.full_name).where(
        Staff.agency_id == agency_id, Staff.user_id.in_(sorted(ids))))
    return {r.user_id: r.full_name for r in rows}


def _overlap(a: EventInfo, b: EventInfo) -> bool:
    return a.day == b.day and a.start_time < rules.effective_end(b.start_time, b.end_time) and \
        b.start_time < rules.effective_end(a.start_time, a.end_time)


def find_conflicts(events: list[EventInfo], names: dict[int, str]) -> dict[int, tuple[str, ...]]:
    """event id -> Vietnamese warnings: the same person (chair or participant) or room at overlapping times."""
    found: dict[int, list[str]] = defaultdict(list)
    by_day: dict[dt.date, list[EventInfo]] = defaultdict(list)
    for e in events:
        by_day[e.day].append(e)
    for day_events in by_day.values():
        for i, a in enumerate(day_events):
            for b in day_events[i + 1:]:
                if not _overlap(a, b):
                    continue
                people_a = {*a.participant_user_ids, a.chair_user_id} - {None}
                people_b = {*b.participant_user_ids, b.chair_user_id} - {None}
                for uid in sorted(people_a & people_b):  # type: ignore[type-var]
                    who = names.get(uid, "một cán bộ")  # type: ignore[arg-type]
                    found[a.id].append(f"{who} cũng có lịch «{b.content[:60]}» lúc {b.start_time:%H:%M}")
                    found[b.id].append(f"{who} cũng có lịch «{a.content[:60]}» lúc {a.start_time:%H:%M}")
                if a.location.strip() and fold(a.location.strip()) == fold(b.location.strip()):
                    found[a.id].append(f"Trùng địa điểm «{a.location}» với «{b.content[:60]}» lúc {b.start_time:%H:%M}")
                    found[b.id].append(f"Trùng địa điểm «{b.location}» với «{a.content[:60]}» lúc {a.start_time:%H:%M}")
    return {k: tuple(v) for k, v in found.items()}


def _visible_weeks(actor: ActorRef, start: dt.date) -> list[CalendarWeek]:
    rows = db.session.scalars(select(CalendarWeek).where(CalendarWeek.agency_id == actor.agency_id,
                                                         CalendarWeek.week_start == start))
    return [w for w in rows if w.state == PUBLISHED or rules.can_edit(actor, w.department_id)]


def week_view(actor: ActorRef, department_id: int | None, day: dt.date) -> WeekViewResult:
    """One calendar's week as the viewer may see it, with conflicts against every calendar they may see."""
    calendar = calendar_ref(actor.agency_id, department_id)
    start = rules.week_start(day)
    visible_weeks = _visible_weeks(actor, start)
    own = next((w for w in db.session.scalars(select(CalendarWeek).where(
        CalendarWeek.agency_id == actor.agency_id, CalendarWeek.scope_key == scope_key(department_id),
        CalendarWeek.week_start == start))), None)
    week = week_info(own) if own else WeekInfo(None, actor.agency_id, department_id, start, DRAFT)
    editor = rules.can_edit(actor, department_id)
    visible = editor or week.state == PUBLISHED
    all_events = _events(_ordered(select(CalendarEvent).where(
        CalendarEvent.week_id.in_([w.id for w in visible_weeks])))) if visible_weeks else []
    names = people_names(actor.agency_id, all_events)
    conflicts = find_conflicts(all_events, names)
    mine = [e for e in all_events if own is not None and e.week_id == own.id] if visible else []
    days = []
    for offset in range(7):
        d = start + dt.timedelta(days=offset)
        todays = tuple(e for e in mine if e.day == d)
        if offset >= 5 and not todays:
            continue  # weekends are shown only when something happens
        days.append(DayInfo(d, rules.WEEKDAYS[offset], day_kind_label(d, agency_id=actor.agency_id), todays))
    return WeekViewResult(
        calendar=calendar, week=week, visible=visible, days=tuple(days),
        conflicts={k: v for k, v in conflicts.items() if any(e.id == k for e in mine)},
        can_edit=editor,
        can_approve=rules.can_approve(actor, department_id) and week.state == DRAFT and bool(mine),
        can_publish=rules.can_publish(actor, department_id) and week.state == "approved",
    )


def get_event(actor: ActorRef, event_id: int) -> EventInfo:
    row = db.session.get(CalendarEvent, event_id)
    if row is None or row.agency_id != actor.agency_id:
        raise NotFoundError("Không tìm thấy sự kiện trong lịch công tác")
    if row.week.state != PUBLISHED and not rules.can_edit(actor, row.week.department_id):
        raise NotFoundError("Không tìm thấy sự kiện trong lịch công tác")
    return event_info(row, _participants([row.id]).get(row.id, ()))


def feed_by_token(token: str, agency_id: int) -> FeedRef:
    """The feed behind a secret address, only on its own agency's host and while its owner is active."""
    row = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token == token))
    if row is None or row.agency_id != agency_id:
        raise NotFoundError("Không tìm thấy lịch")
    active = db.session.scalar(select(Staff.active).where(Staff.user_id == row.user_id,
                                                          Staff.agency_id == agency_id))
    if not active:
        raise NotFoundError("Không tìm thấy lịch")
    return FeedRef(row.agency_id, row.user_id, row.scope_key, row.token)
