"""The Celery app: `celery -A app.jobs.celery_app worker -B` in production (Redis broker from config).

Tasks run inside an app context of a Flask app built once per worker process from the same
environment as the web nodes (DATABASE_URL, QLVB_*).
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from celery import Celery, Task, signals
from flask import Flask

from app.config import build_config
from app.core import logs

from .bodies import PERIODIC

log = logging.getLogger("qlvb.jobs")
INTERVAL_SECONDS = 60.0
# The message header that carries the X-Request-Id of the web request that queued a job.
REQUEST_ID_HEADER = "qlvb_request_id"
_flask: Flask | None = None
_flask_lock = threading.Lock()


def flask_app() -> Flask:
    global _flask
    if _flask is None:
        with _flask_lock:
            if _flask is None:
                from app import create_app

                _flask = create_app()
    return _flask


class AppContextTask(Task):  # type: ignore[misc]
    """Runs in an app context, under the request id of whoever queued it, and is counted in the job metrics."""

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from app.ops import metrics

        request_id = logs.clean_request_id(_header(self.request, REQUEST_ID_HEADER)) or f"job-{logs.new_request_id()}"
        token = logs.bind_request_id(request_id)
        try:
            with flask_app().app_context():
                log.info("job %s started", self.name)
                try:
                    result = self.run(*args, **kwargs)
                except Exception:
                    metrics.job_finished(self.name, failed=True)
                    log.exception("job %s failed", self.name)
                    raise
                metrics.job_finished(self.name, failed=False)
                log.info("job %s done: %s", self.name, result)
                return result
        finally:
            logs.reset_request_id(token)


def _header(request: Any, name: str) -> str | None:
    value = getattr(request, name, None)
    if value is None and isinstance(getattr(request, "headers", None), dict):
        value = request.headers.get(name)
    return str(value) if value else None


@signals.before_task_publish.connect(weak=False)
def _carry_request_id(headers: dict[str, Any] | None = None, **_kw: Any) -> None:
    """A job queued while serving a request carries that request's id (the worker logs under it)."""
    request_id = logs.current_request_id.get()
    if request_id and headers is not None and not headers.get(REQUEST_ID_HEADER):
        headers[REQUEST_ID_HEADER] = request_id


@signals.setup_logging.connect(weak=False)
def _worker_logging(**_kw: Any) -> None:
    """The worker logs like the web nodes (QLVB_LOG_FORMAT) instead of Celery's own format."""
    cfg = build_config()
    logs.configure_logging(str(cfg.get("QLVB_LOG_FORMAT") or "text"), str(cfg.get("QLVB_LOG_LEVEL") or "INFO"),
                           stream=sys.stderr)


@signals.worker_init.connect(weak=False)
def _build_app_at_start(**_kw: Any) -> None:
    """Build the Flask app when the worker starts, so a production misconfiguration stops it at once.

    Celery logs and swallows what a signal receiver raises: leave with SystemExit instead."""
    from app.core.errors import ConfigurationError

    try:
        flask_app()
    except ConfigurationError as exc:
        print(str(exc), file=sys.stderr)  # the journal of a unit that will not start
        log.critical("%s", exc)
        raise SystemExit(3) from exc


def make_celery(config: dict[str, Any] | None = None) -> Celery:
    cfg = config or build_config()
    broker = str(cfg.get("QLVB_CELERY_BROKER_URL") or "memory://")
    queue = str(cfg.get("QLVB_CELERY_QUEUE") or "qlvb")
    interval = float(cfg.get("QLVB_BEAT_INTERVAL") or INTERVAL_SECONDS)
    celery = Celery("qlvb", broker=broker, task_cls=AppContextTask,
                    include=["app.jobs.workflow_tasks", "app.jobs.notification_tasks", "app.jobs.opinion_tasks",
                             "app.jobs.dossier_tasks", "app.jobs.interchange_tasks", "app.jobs.intake_tasks"])
    celery.conf.update(
        task_default_queue=queue,
        task_ignore_result=True,
        task_acks_late=True,  # a job killed mid-run is redelivered; every body is safe to run twice
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        timezone="Asia/Ho_Chi_Minh",
        broker_connection_retry_on_startup=True,
        # Several beats may run (one per worker host, for failover): only the lock holder sends (app/jobs/beat.py).
        beat_scheduler="app.jobs.beat:SingleBeatScheduler",
        beat_schedule={
            name: {"task": name, "schedule": interval, "options": {"expires": interval}}
            for name in PERIODIC
        },
    )
    return celery


app = make_celery()
