"""Celery tasks of the workflow: names are explicit so renaming a module never orphans queued jobs."""

from __future__ import annotations

from app.jobs import bodies
from app.jobs.celery_app import app


@app.task(name="workflow.fire_due_timers")
def fire_due_timers() -> int:
    return bodies.fire_due_timers()
