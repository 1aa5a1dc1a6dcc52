"""Who may edit, approve and publish which calendar; how a week and its rows are named."""

from __future__ import annotations

import datetime as dt

from app.tenancy import roles as R
from app.workflow.info import ActorRef

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
STATE_LABELS = {"draft": "Dự thảo", "approved": "Đã duyệt", "published": "Đã ban hành"}
# Without an end time an event lasts to the end of its session (for conflicts and iCalendar).
MORNING_END, AFTERNOON_END = dt.time(11, 30), dt.time(17, 30)


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_label(start: dt.date) -> str:
    end = start + dt.timedelta(days=6)
    number = start.isocalendar().week
    return f"Tuần {number} (từ {start:%d/%m} đến {end:%d/%m/%Y})"


def session_label(start: dt.time) -> str:
    if start < dt.time(12, 0):
        return "Sáng"
    return "Chiều" if start < dt.time(18, 0) else "Tối"


def effective_end(start: dt.time, end: dt.time | None) -> dt.time:
    if end is not None and end > start:
        return end
    if start < MORNING_END:
        return MORNING_END
    if start < AFTERNOON_END:
        return AFTERNOON_END
    later = dt.datetime.combine(dt.date.min, start) + dt.timedelta(hours=1)
    return later.time() if later.date() == dt.date.min else dt.time(23, 59)


def can_edit(actor: ActorRef, department_id: int | None) -> bool:
    """Văn phòng (clerk) and leaders keep every calendar; a head keeps their own department's."""
    if R.LEADER in actor.roles or R.CLERK in actor.roles:
        return True
    return department_id is not None and R.HEAD in actor.roles and actor.department_id == department_id


def can_approve(actor: ActorRef, department_id: int | None) -> bool:
    if R.LEADER in actor.roles:
        return True
    return department_id is not None and R.HEAD in actor.roles and actor.department_id == department_id


def can_publish(actor: ActorRef, department_id: int | None) -> bool:
    return can_approve(actor, department_id) or (department_id is None and R.CLERK in actor.roles)
