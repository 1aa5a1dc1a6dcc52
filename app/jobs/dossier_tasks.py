"""Celery tasks of work dossiers (reminders before the deposit is due)."""

from __future__ import annotations

from app.jobs import bodies
from app.jobs.celery_app import app


@app.task(name="dossiers.send_deposit_reminders")
def send_deposit_reminders() -> int:
    return bodies.send_deposit_reminders()
