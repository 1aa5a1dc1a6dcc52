"""Celery tasks of opinion requests (reminders before the answer deadline)."""

from __future__ import annotations

from app.jobs import bodies
from app.jobs.celery_app import app


@app.task(name="opinions.send_reminders")
def send_opinion_reminders() -> int:
    return bodies.send_opinion_reminders()
