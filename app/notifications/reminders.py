"""Deadline reminders: one working day before a task's deadline, and once it has passed.

Each run looks only at deadlines that entered a window since the previous run (``job_mark`` keeps how
far each scan got), so a minute's run costs what changed, not the size of the inbox. Tasks opened
inside the "due soon" window are reminded when they open (see subscribers). Notifications carry a
dedupe key, so overlapping runs never remind anyone twice.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.core import clock
from app.deadlines.workdays import next_working_day
from app.extensions import db
from app.workflow.models import HumanTask

from . import services
from .models import JobMark
from .tasks import URGENT, deadline_text, describe_subject, recipients, task_link

BATCH = 2000
DUE_SOON_MARK = "deadlines.due_soon"
OVERDUE_MARK = "deadlines.overdue"
OVERDUE_LOOKBACK = dt.timedelta(days=7)  # on the very first run only


def due_soon_horizon(now: dt.datetime) -> dt.datetime:
    """Deadlines up to the end of the next working day count as "due soon" (Vietnam time)."""
    day_after = next_working_day(now.astimezone(clock.VN_TZ).date()) + dt.timedelta(days=1)
    return dt.datetime.combine(day_after, dt.time(0, 0), tzinfo=clock.VN_TZ).astimezone(dt.UTC)


def _mark(name: str, default: dt.datetime) -> JobMark:
    row = db.session.execute(
        select(JobMark).where(JobMark.name == name).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        row = JobMark(name=name, value=default)
        db.session.add(row)
        db.session.flush()
    return row


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)  # SQLite drops the zone


def _open_tasks_due(after: dt.datetime, until: dt.datetime) -> list[HumanTask]:
    return list(db.session.scalars(
        select(HumanTask)
        .where(HumanTask.state == "open", HumanTask.due_at > after, HumanTask.due_at <= until)
        .order_by(HumanTask.due_at, HumanTask.id)
        .limit(BATCH)
    ))


def _advance(mark: JobMark, tasks: list[HumanTask], until: dt.datetime) -> None:
    # A full batch may stop inside a run of equal deadlines: resume just before the last one (dedupe keys
    # make the overlap harmless).
    mark.value = _aware(tasks[-1].due_at) - dt.timedelta(microseconds=1) if len(tasks) == BATCH else until


def remind_task(task: HumanTask, kind: str) -> int:
    subject = describe_subject(task.subject_type, task.subject_id, task.agency_id)
    urgent = subject.urgency in URGENT
    if kind == "due_soon":
        title = f"Sắp đến hạn: {task.name}"
        body = f"{subject.line}\nHạn xử lý: {deadline_text(task.due_at)}."
    else:
        title = f"Quá hạn: {task.name}"
        body = f"{subject.line}\nĐã quá hạn xử lý ({deadline_text(task.due_at)})."
    users = recipients(task.agency_id, candidate_user_id=task.candidate_user_id, candidate_role=task.candidate_role,
                       candidate_department_id=task.candidate_department_id, claimed_by_id=task.claimed_by_id)
    return services.notify(users, agency_id=task.agency_id, kind=kind, title=title, body=body,
                           link=task_link(task.id), urgent=urgent, dedupe_key=f"task:{task.id}:{kind}")


def send_due_reminders(now: dt.datetime | None = None) -> int:
    """Remind about deadlines that came within a working day, and deadlines that passed; return how many."""
    at = now or clock.now()
    made = 0
    overdue = _mark(OVERDUE_MARK, at - OVERDUE_LOOKBACK)
    after = _aware(overdue.value)
    if after > at:  # the clock went back (restored backup, frozen test clock): look back again
        after = at - OVERDUE_LOOKBACK
    tasks = _open_tasks_due(after, at)
    for task in tasks:
        made += remind_task(task, "overdue")
    _advance(overdue, tasks, at)

    horizon = due_soon_horizon(at)
    soon = _mark(DUE_SOON_MARK, at)
    after = _aware(soon.value)
    if after > horizon:  # the clock went back: start again from now
        after = at
    tasks = _open_tasks_due(max(after, at), horizon)
    for task in tasks:
        made += remind_task(task, "due_soon")
    _advance(soon, tasks, horizon)
    db.session.flush()
    return made
