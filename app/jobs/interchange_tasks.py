"""Celery tasks of the document axis: the outbox sender and the poller of an external axis."""

from __future__ import annotations

from app.jobs import bodies
from app.jobs.celery_app import app


@app.task(name="interchange.send_outbox")
def send_outbox(outbox_id: int | None = None) -> int:
    return bodies.send_outbox(outbox_id)


@app.task(name="interchange.poll_axis")
def poll_axis() -> int:
    return bodies.poll_axis()
