"""Who a workflow task concerns, what it is about, and how its deadline reads (shared by events and reminders)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.core import clock, revisions
from app.documents.models import Document
from app.extensions import db
from app.tenancy.models import Staff

URGENT = frozenset({"khan", "thuong_khan", "hoa_toc"})
DOCUMENT_SUBJECTS = frozenset({"incoming", "outgoing"})
SUBJECT_LABELS = {"incoming": "Văn bản đến", "outgoing": "Văn bản đi"}
# (agency, role, department) -> the active holders of the role; valid while the "org" revision stands
_HOLDERS = revisions.DefinitionCache("org", maxsize=1024)



def _user_and_role() -> tuple[Any, Any]:
    """The security models behind Staff.user, without importing Flask-AppBuilder into the domain."""
    user = Staff.user.property.mapper.class_
    return user, user.roles.property.mapper.class_


@dataclass(frozen=True)
class TaskSubjectRef:
    line: str  # "Văn bản đến số 12/UBND-VP: Về việc …"
    urgency: str | None


def task_link(task_id: int) -> str:
    return f"/tasks/{task_id}"


# Packages above this one add who else is told of a step: fn(agency_id, user_ids) -> more user ids (the deputies
# of those people, app/delegations), registered at start-up (app/bootstrap.py).
_MORE_RECIPIENTS: list[Callable[[int, list[int]], list[int]]] = []


def register_recipient_source(fn: Callable[[int, list[int]], list[int]]) -> None:
    if fn not in _MORE_RECIPIENTS:
        _MORE_RECIPIENTS.append(fn)


def recipients(agency_id: int, *, candidate_user_id: int | None, candidate_role: str | None,
               candidate_department_id: int | None, claimed_by_id: int | None = None) -> list[int]:
    """The named person, else whoever claimed it, else every active holder of the lane role (in its department);
    and whoever stands in for them (ủy quyền)."""
    if candidate_user_id is not None:
        users = [candidate_user_id]
    elif claimed_by_id is not None:
        users = [claimed_by_id]
    elif not candidate_role:
        return []
    else:
        users = list(_HOLDERS.get((agency_id, candidate_role, candidate_department_id),
                                  lambda: _holders(agency_id, candidate_role, candidate_department_id)))
    for more in _MORE_RECIPIENTS:
        users += [u for u in more(agency_id, users) if u not in users]
    return users


def _holders(agency_id: int, role: str, department_id: int | None) -> tuple[int, ...]:
    _User, _Role = _user_and_role()
    query = (
        select(Staff.user_id)
        .join(_User, _User.id == Staff.user_id)
        .join(_User.roles)
        .where(Staff.agency_id == agency_id, Staff.active.is_(True), _Role.name == role)
    )
    if department_id is not None:
        query = query.where(Staff.department_id == department_id)
    return tuple(sorted(set(db.session.scalars(query))))


def describe_subject(subject_type: str, subject_id: int, agency_id: int,
                     data: dict[str, object] | None = None) -> TaskSubjectRef:
    """A one-line description and the urgency: from the document, else an ``urgency`` field in ``data``."""
    urgency = (data or {}).get("urgency")
    label = SUBJECT_LABELS.get(subject_type)
    if subject_type in DOCUMENT_SUBJECTS:
        row = db.session.execute(
            select(Document.number_notation, Document.summary, Document.urgency)
            .where(Document.id == subject_id, Document.agency_id == agency_id)
        ).one_or_none()
        if row is not None:
            number = f" số {row.number_notation}" if row.number_notation else ""
            summary = f": {row.summary}" if row.summary else ""
            return TaskSubjectRef(f"{label}{number}{summary}", row.urgency)
    return TaskSubjectRef(f"{label or 'Hồ sơ'} #{subject_id}", urgency if isinstance(urgency, str) else None)


def deadline_text(due_at: dt.datetime | None) -> str:
    if due_at is None:
        return ""
    local = due_at.astimezone(clock.VN_TZ)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def staff_name(user_id: int | None) -> str:
    if user_id is None:
        return "Hệ thống"
    return db.session.scalar(select(Staff.full_name).where(Staff.user_id == user_id)) or "Một cán bộ"
