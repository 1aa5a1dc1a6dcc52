"""Changing calendars: events, approval, publication, feed tokens. Services flush; the caller commits."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from app.core import clock
from app.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from app.core.text import nfc
from app.extensions import db
from app.notifications import services as notifications
from app.tenancy.models import Department, Staff
from app.workflow.info import ActorRef

from . import rules
from .info import EventInfo, EventInput, FeedRef, WeekInfo
from .models import (
    APPROVED,
    DRAFT,
    PUBLISHED,
    CalendarEvent,
    CalendarFeed,
    CalendarWeek,
    calendar_event_participant,
    scope_key,
)

MAX_CONTENT = 4000


def week_info(row: CalendarWeek) -> WeekInfo:
    return WeekInfo(row.id, row.agency_id, row.department_id, row.week_start, row.state, row.approved_at,
                    row.approved_by_id, row.published_at)


def event_info(row: CalendarEvent, participant_ids: tuple[int, ...]) -> EventInfo:
    week = row.week
    changed = week.state == PUBLISHED and week.published_at is not None and row.updated_at > week.published_at
    return EventInfo(row.id, row.week_id, row.agency_id, week.department_id, row.day, row.start_time, row.end_time,
                     row.content, row.location, row.chair_user_id, row.chair_name, participant_ids, row.participants,
                     row.preparing_unit, week.state, row.updated_at, changed)


def _check_department(agency_id: int, department_id: int | None) -> None:
    if department_id is None:
        return
    owner = db.session.scalar(select(Department.agency_id).where(Department.id == department_id))
    if owner != agency_id:
        raise NotFoundError("Không tìm thấy phòng ban")


def _week(agency_id: int, department_id: int | None, start: dt.date, *, create: bool, lock: bool = False
          ) -> CalendarWeek | None:
    start = rules.week_start(start)
    query = select(CalendarWeek).where(CalendarWeek.agency_id == agency_id,
                                       CalendarWeek.scope_key == scope_key(department_id),
                                       CalendarWeek.week_start == start)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = db.session.scalar(query)
    if row is None and create:
        _check_department(agency_id, department_id)
        row = CalendarWeek(agency_id=agency_id, department_id=department_id, scope_key=scope_key(department_id),
                           week_start=start, state=DRAFT, created_at=clock.now())
        try:
            with db.session.begin_nested():
                db.session.add(row)
                db.session.flush()
        except IntegrityError:  # a colleague created the same week a moment ago
            row = db.session.scalar(query)
    return row


def _staff_names(agency_id: int, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = db.session.execute(select(Staff.user_id, Staff.full_name).where(
        Staff.user_id.in_(sorted(user_ids)), Staff.agency_id == agency_id, Staff.active.is_(True)))
    return {r.user_id: r.full_name for r in rows}


def _validate(agency_id: int, data: EventInput) -> tuple[str, dict[int, str]]:
    errors: dict[str, list[str]] = {}
    content = nfc(data.content.strip())
    if not content:
        errors["content"] = ["Nhập nội dung công việc"]
    elif len(content) > MAX_CONTENT:
        errors["content"] = [f"Nội dung dài quá {MAX_CONTENT} ký tự"]
    if data.end_time is not None and data.end_time <= data.start_time:
        errors["end_time"] = ["Giờ kết thúc phải sau giờ bắt đầu"]
    wanted = set(data.participant_user_ids) | ({data.chair_user_id} if data.chair_user_id else set())
    names = _staff_names(agency_id, wanted)
    if data.chair_user_id is not None and data.chair_user_id not in names:
        errors["chair_user_id"] = ["Người chủ trì không thuộc cơ quan"]
    if set(data.participant_user_ids) - set(names):
        errors["participant_user_ids"] = ["Có người tham dự không thuộc cơ quan"]
    if data.chair_user_id is None and not data.chair_name.strip():
        errors["chair_name"] = ["Chọn hoặc nhập người chủ trì"]
    if errors:
        raise ValidationError("Thông tin lịch công tác chưa hợp lệ", field_errors=errors)
    return content, names


def _require_edit(actor: ActorRef, week: CalendarWeek) -> None:
    if week.agency_id != actor.agency_id:
        raise NotFoundError("Không tìm thấy lịch công tác")
    if not rules.can_edit(actor, week.department_id):
        raise PermissionDeniedError("Bạn không có quyền sửa lịch công tác này")


def _apply(row: CalendarEvent, data: EventInput, content: str, names: dict[int, str]) -> None:
    row.day, row.start_time, row.end_time = data.day, data.start_time, data.end_time
    row.content = content
    row.location = nfc(data.location.strip())[:255]
    row.chair_user_id = data.chair_user_id
    row.chair_name = nfc(data.chair_name.strip())[:255] or names.get(data.chair_user_id or 0, "")
    row.participants = nfc(data.participants.strip())
    row.preparing_unit = nfc(data.preparing_unit.strip())[:255]
    row.updated_at = clock.now()


def _set_participants(event_id: int, user_ids: tuple[int, ...]) -> None:
    db.session.execute(delete(calendar_event_participant).where(calendar_event_participant.c.event_id == event_id))
    if user_ids:
        db.session.execute(insert(calendar_event_participant),
                           [{"event_id": event_id, "user_id": u} for u in sorted(set(user_ids))])


def _touch(week: CalendarWeek) -> None:
    """An approved week that changes needs approving again; a published one stays published (điều chỉnh)."""
    if week.state == APPROVED:
        week.state, week.approved_at, week.approved_by_id = DRAFT, None, None


def add_event(actor: ActorRef, department_id: int | None, data: EventInput) -> EventInfo:
    if not rules.can_edit(actor, department_id):
        raise PermissionDeniedError("Bạn không có quyền sửa lịch công tác này")
    content, names = _validate(actor.agency_id, data)
    week = _week(actor.agency_id, department_id, data.day, create=True, lock=True)
    assert week is not None
    _require_edit(actor, week)
    row = CalendarEvent(week_id=week.id, agency_id=actor.agency_id, created_by_id=actor.user_id, created_at=clock.now())
    _apply(row, data, content, names)
    db.session.add(row)
    db.session.flush()
    _set_participants(row.id, data.participant_user_ids)
    _touch(week)
    db.session.flush()
    return event_info(row, tuple(sorted(set(data.participant_user_ids))))


def _load_event(actor: ActorRef, event_id: int) -> CalendarEvent:
    row = db.session.get(CalendarEvent, event_id)
    if row is None or row.agency_id != actor.agency_id:
        raise NotFoundError("Không tìm thấy sự kiện trong lịch công tác")
    _require_edit(actor, row.week)
    return row


def update_event(actor: ActorRef, event_id: int, data: EventInput) -> EventInfo:
    row = _load_event(actor, event_id)
    if rules.week_start(data.day) != row.week.week_start:
        raise ValidationError("Ngày mới phải thuộc cùng tuần; hãy xóa và thêm lại ở tuần khác",
                              field_errors={"day": ["Ngày phải thuộc tuần của lịch"]})
    content, names = _validate(actor.agency_id, data)
    _apply(row, data, content, names)
    _set_participants(row.id, data.participant_user_ids)
    _touch(row.week)
    db.session.flush()
    return event_info(row, tuple(sorted(set(data.participant_user_ids))))


def delete_event(actor: ActorRef, event_id: int) -> None:
    row = _load_event(actor, event_id)
    _touch(row.week)
    db.session.delete(row)
    db.session.flush()


def approve_week(actor: ActorRef, department_id: int | None, start: dt.date) -> WeekInfo:
    if not rules.can_approve(actor, department_id):
        raise PermissionDeniedError("Chỉ lãnh đạo (hoặc trưởng phòng với lịch của phòng) được duyệt lịch công tác")
    week = _week(actor.agency_id, department_id, start, create=False, lock=True)
    if week is None or not db.session.scalar(select(CalendarEvent.id).where(CalendarEvent.week_id == week.id).limit(1)):
        raise ConflictError("Lịch tuần này chưa có nội dung nào để duyệt")
    if week.state != DRAFT:
        raise ConflictError("Lịch tuần này đã được duyệt")
    week.state, week.approved_at, week.approved_by_id = APPROVED, clock.now(), actor.user_id
    db.session.flush()
    return week_info(week)


def publish_week(actor: ActorRef, department_id: int | None, start: dt.date) -> WeekInfo:
    if not rules.can_publish(actor, department_id):
        raise PermissionDeniedError("Bạn không có quyền ban hành lịch công tác này")
    week = _week(actor.agency_id, department_id, start, create=False, lock=True)
    if week is None or week.state == DRAFT:
        raise ConflictError("Lịch tuần phải được lãnh đạo duyệt trước khi ban hành")
    if week.state == PUBLISHED:
        raise ConflictError("Lịch tuần này đã được ban hành")
    week.state, week.published_at, week.published_by_id = PUBLISHED, clock.now(), actor.user_id
    db.session.flush()
    _announce(week)
    return week_info(week)


def _announce(week: CalendarWeek) -> None:
    """Tell everyone named in the published week (chairs and participants) once."""
    event_ids = list(db.session.scalars(select(CalendarEvent.id).where(CalendarEvent.week_id == week.id)))
    chairs = set(db.session.scalars(select(CalendarEvent.chair_user_id).where(
        CalendarEvent.week_id == week.id, CalendarEvent.chair_user_id.is_not(None))))
    people = set(db.session.scalars(select(calendar_event_participant.c.user_id).where(
        calendar_event_participant.c.event_id.in_(event_ids)))) if event_ids else set()
    link = f"/calendar/?week={week.week_start.isoformat()}" + (
        f"&department={week.department_id}" if week.department_id else "")
    notifications.notify(chairs | people, agency_id=week.agency_id, kind="calendar",
                         title=f"Lịch công tác {rules.week_label(week.week_start).lower()} đã ban hành",
                         body="Bạn có tên trong lịch công tác tuần (chủ trì hoặc tham dự).", link=link,
                         dedupe_key=f"calendar-week:{week.id}:published")


def feed_token(actor: ActorRef, scope: str) -> FeedRef:
    """The user's secret feed address for ``scope`` ("person", "agency" or "dept:<id>"), made on first use."""
    if scope.startswith("dept:"):
        try:
            _check_department(actor.agency_id, int(scope[5:]))
        except ValueError:
            raise NotFoundError("Không tìm thấy lịch công tác") from None
    elif scope not in ("person", "agency"):
        raise NotFoundError("Không tìm thấy lịch công tác")
    row = db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == actor.user_id,
                                                       CalendarFeed.scope_key == scope))
    if row is None:
        row = CalendarFeed(agency_id=actor.agency_id, user_id=actor.user_id, scope_key=scope,
                           token=secrets.token_urlsafe(32), created_at=clock.now())
        db.session.add(row)
        db.session.flush()
    return FeedRef(row.agency_id, row.user_id, row.scope_key, row.token)


def reset_feed_tokens(actor: ActorRef) -> int:
    """Invalidate every feed address of the user (e.g. after a link was shared by mistake)."""
    result = db.session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == actor.user_id))
    return int(result.rowcount or 0)
