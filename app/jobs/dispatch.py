"""Running, right after a commit, the job a request asked for (task-opened notices, app/notifications/pending.py):
the Celery task when a broker is configured, else the embedded scheduler's "soon" thread of this process. Either
way the periodic run of the same job sweeps whatever a lost dispatch left."""

from __future__ import annotations

from flask import current_app, has_app_context

from app.notifications.pending import set_dispatcher


def _dispatch() -> None:
    if not has_app_context():
        return
    app = current_app
    if app.config.get("QLVB_CELERY_BROKER_URL"):
        from .celery_app import app as celery

        celery.send_task("notifications.announce_pending", queue=app.config.get("QLVB_CELERY_QUEUE") or None)
        return
    scheduler = app.extensions.get("qlvb_embedded_jobs")
    if scheduler is not None:
        scheduler.wake()


def install() -> None:
    set_dispatcher(_dispatch)
