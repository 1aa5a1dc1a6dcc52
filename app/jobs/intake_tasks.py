"""Celery tasks of mail intake: the periodic fan-out and one task per agency mailbox."""

from __future__ import annotations

from app.jobs import bodies
from app.jobs.celery_app import app


@app.task(name="intake.poll_mailbox")
def poll_mailbox(mailbox_id: int) -> int:
    return bodies.poll_mailbox(mailbox_id)


@app.task(name="intake.poll_mailboxes")
def poll_mailboxes() -> int:
    return bodies.poll_mailboxes(dispatch=lambda mailbox_id: poll_mailbox.delay(mailbox_id))
