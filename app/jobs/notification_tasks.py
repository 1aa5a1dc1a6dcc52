"""Celery tasks of notifications (reminders, e-mail delivery)."""

from __future__ import annotations

from app.jobs import bodies
from app.jobs.celery_app import app


@app.task(name="notifications.send_due_reminders")
def send_due_reminders() -> int:
    return bodies.send_due_reminders()


@app.task(name="notifications.deliver_email")
def deliver_email(outbox_id: int | None = None) -> int:
    return bodies.deliver_email(outbox_id)


@app.task(name="notifications.announce_pending")
def announce_pending() -> int:
    return bodies.announce_notices()
