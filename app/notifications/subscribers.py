"""Workflow events -> notifications. Connected once at app start (``connect()``); runs inside the step's transaction."""

from __future__ import annotations

from typing import Any

from app.core import clock, signals
from app.extensions import db

from . import deliveries, pending, services
from .reminders import due_soon_horizon
from .tasks import URGENT, deadline_text, describe_subject, recipients, staff_name, task_link

RETURN_DECISIONS = frozenset({"return", "send_back", "rework"})
_RETURNED_KEY = "qlvb_returned_steps"


def on_task_completed(sender: Any, task: Any = None, **_: Any) -> None:
    """Remember a "send back" so the task it reopens is announced as returned, with the reason."""
    decision = (task.form_data or {}).get("decision") if task is not None else None
    if isinstance(decision, str) and decision in RETURN_DECISIONS:
        db.session.info.setdefault(_RETURNED_KEY, {})[task.instance_id] = (task.completed_by_id, task.comment,
                                                                          task.name)


def on_task_opened(sender: Any, task: Any = None, **_: Any) -> None:
    if task is None:
        return
    returned = db.session.info.get(_RETURNED_KEY, {}).pop(task.instance_id, None)
    if pending.after_commit_enabled():
        pending.defer(task, returned)
    else:
        announce_task(task, returned)


def announce_pending() -> int:
    """The job's side of ``pending``: tell the people of each step opened since the last run."""
    return pending.announce_pending(announce_task)


def announce_task(task: Any, returned: tuple[Any, ...] | None) -> None:
    """Tell whoever may act on an opened step (a "send back" says so, with its reason)."""
    users = recipients(task.agency_id, candidate_user_id=task.candidate_user_id, candidate_role=task.candidate_role,
                       candidate_department_id=task.candidate_department_id, claimed_by_id=task.claimed_by_id)
    if not users:
        return
    subject = describe_subject(task.subject_type, task.subject_id, task.agency_id)
    urgent = subject.urgency in URGENT
    lines = [subject.line]
    if returned is not None:
        by, comment, step = returned
        kind, title = "task_returned", f"Bị trả lại: {task.name}"
        lines.append(f"{staff_name(by)} trả lại ở bước «{step}»" + (f": {comment}" if comment else "."))
    else:
        kind, title = "task_new", f"Công việc mới: {task.name}"
    if urgent:
        title = f"{services.URGENT_LEVELS[subject.urgency]} – {title}"
    dedupe = None
    if task.due_at is not None:
        lines.append(f"Hạn xử lý: {deadline_text(task.due_at)}.")
        # Opened already inside the reminder window: this notice is the reminder (the job will not repeat it).
        if task.due_at <= due_soon_horizon(clock.now()):
            dedupe = f"task:{task.id}:due_soon"
    services.notify(users, agency_id=task.agency_id, kind=kind, title=title, body="\n".join(lines),
                    link=task_link(task.id), urgent=urgent, dedupe_key=dedupe)


def connect() -> None:
    """Idempotent: blinker keeps one connection per receiver."""
    signals.task_opened.connect(on_task_opened)
    signals.task_completed.connect(on_task_completed)
    signals.delivery_status_changed.connect(deliveries.on_delivery_status_changed)
    signals.document_returned.connect(deliveries.on_document_returned)
    signals.document_recalled.connect(deliveries.on_document_recalled)
