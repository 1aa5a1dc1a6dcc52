"""Frozen values the calendar domain hands to pages, the PDF and the iCalendar feed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class EventInput:
    day: dt.date
    start_time: dt.time
    content: str
    end_time: dt.time | None = None
    location: str = ""
    chair_user_id: int | None = None
    chair_name: str = ""
    participant_user_ids: tuple[int, ...] = ()
    participants: str = ""
    preparing_unit: str = ""


@dataclass(frozen=True)
class WeekInfo:
    id: int | None
    agency_id: int
    department_id: int | None
    week_start: dt.date
    state: str
    approved_at: dt.datetime | None = None
    approved_by_id: int | None = None
    published_at: dt.datetime | None = None


@dataclass(frozen=True)
class EventInfo:
    id: int
    week_id: int
    agency_id: int
    department_id: int | None
    day: dt.date
    start_time: dt.time
    end_time: dt.time | None
    content: str
    location: str
    chair_user_id: int | None
    chair_name: str
    participant_user_ids: tuple[int, ...]
    participants: str
    preparing_unit: str
    week_state: str
    updated_at: dt.datetime
    changed_after_publish: bool = False


@dataclass(frozen=True)
class CalendarRef:
    department_id: int | None
    name: str


@dataclass(frozen=True)
class DayInfo:
    day: dt.date
    weekday: str
    holiday: str | None
    events: tuple[EventInfo, ...]


@dataclass(frozen=True)
class WeekViewResult:
    calendar: CalendarRef
    week: WeekInfo
    visible: bool
    days: tuple[DayInfo, ...]
    conflicts: dict[int, tuple[str, ...]] = field(default_factory=dict)
    can_edit: bool = False
    can_approve: bool = False
    can_publish: bool = False


@dataclass(frozen=True)
class FeedRef:
    agency_id: int
    user_id: int
    scope_key: str
    token: str
