"""Running, right after a commit, the job a request asked for (task-opened notices, app/notifications/pending.py):
the Celery task when a broker is configured, else the embedded scheduler's "soon" thread of this process. Either
way the periodic run of the same job sweeps whatever a lost dispatch left."""

from __future__ import annotations

import logging
import threading

from flask import current_app, has_app_context

from app.notifications.pending import set_dispatcher

log = logging.getLogger("qlvb.jobs")


def _publish(queue: str | None) -> None:
    from .celery_app import app as celery

    try:
        celery.send_task("notifications.announce_pending", queue=queue, retry=False)
    except Exception:  # broker down: the periodic run sweeps the rows
        log.warning("could not queue notifications.announce_pending; the periodic run will announce", exc_info=True)


def _dispatch() -> None:
    if not has_app_context():
        return
    app = current_app
    if app.config.get("QLVB_CELERY_BROKER_URL"):
        # Off the request's thread: a broker that does not answer must not hold the official's page.
        threading.Thread(target=_publish, args=(app.config.get("QLVB_CELERY_QUEUE") or None,),
                         name="qlvb-dispatch", daemon=True).start()
        return
    scheduler = app.extensions.get("qlvb_embedded_jobs")
    if scheduler is not None:
        scheduler.wake()


def install() -> None:
    set_dispatcher(_dispatch)
