"""Task-opened notices after the commit (issue #17.3): the step's transaction writes one row; a job tells people.

With ``QLVB_NOTICES_AFTER_COMMIT`` on (the default wherever a Celery broker is configured), a step that opens
only INSERTs a ``notification_pending`` row; who holds the role, the document's line, the notifications and the
e-mails are worked out by ``announce_pending`` in a job, so the official's request does not wait for them. After
the commit, the dispatcher that the job layer installed (app/jobs/dispatch.py) is asked to run it at once; the
periodic job sweeps whatever a lost dispatch left, so nothing is lost. Off (tests, a single process without
broker unless set), the notice is made inside the step's own transaction, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import delete, event, insert, select
from sqlalchemy.orm import Session

from app.core import clock
from app.extensions import db

from .models import PendingNotice

log = logging.getLogger("qlvb.notifications")
_FLAG = "qlvb_pending_notices"
_dispatcher: list[Callable[[], None]] = []
BATCH = 200


def after_commit_enabled() -> bool:
    return bool(current_app.config.get("QLVB_NOTICES_AFTER_COMMIT"))


def defer(task: Any, returned: tuple[Any, ...] | None) -> None:
    """Queue the notice of an opened step (one INSERT, no RETURNING)."""
    db.session.execute(insert(PendingNotice).values(task_id=task.id, returned=list(returned) if returned else None,
                                                     created_at=clock.now()))
    db.session.info[_FLAG] = True


def set_dispatcher(fn: Callable[[], None]) -> None:
    """How to run ``announce_pending`` soon after a commit (the job layer decides: Celery, or a thread)."""
    _dispatcher[:] = [fn]


@event.listens_for(Session, "after_commit")
def _dispatch(session: Session) -> None:
    if session.info.pop(_FLAG, None) and _dispatcher:
        try:
            _dispatcher[0]()
        except Exception:  # the periodic sweep announces it anyway
            log.warning("could not dispatch the pending notices at once; the periodic job will", exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_FLAG, None)


def announce_pending(announce: Callable[[Any, tuple[Any, ...] | None], None]) -> int:
    """Announce each queued notice with ``announce(task, returned)`` (skipped for a step already closed), then
    delete it; the caller commits. Rows are claimed with SKIP LOCKED on PostgreSQL so two workers never share one."""
    from app.workflow.models import HumanTask

    query = select(PendingNotice).order_by(PendingNotice.id).limit(BATCH)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(db.session.scalars(query))
    if not rows:
        return 0
    tasks = {t.id: t for t in db.session.scalars(select(HumanTask).where(HumanTask.id.in_({r.task_id for r in rows})))}
    done = 0
    for row in rows:
        # Claimed by deleting it: a second runner that read the same row (SQLite has no SKIP LOCKED) waits for
        # this transaction's write lock, then deletes nothing and announces nothing.
        if not db.session.execute(delete(PendingNotice).where(PendingNotice.id == row.id)).rowcount:
            continue
        done += 1
        task = tasks.get(row.task_id)
        if task is not None and task.state == "open":
            announce(task, tuple(row.returned) if row.returned else None)
    return done
