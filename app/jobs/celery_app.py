"""The Celery app: `celery -A app.jobs.celery_app worker -B` in production (Redis broker from config).

Tasks run inside an app context of a Flask app built once per worker process from the same
environment as the web nodes (DATABASE_URL, QLVB_*).
"""

from __future__ import annotations

import threading
from typing import Any

from celery import Celery, Task
from flask import Flask

from app.config import build_config

from .bodies import PERIODIC

INTERVAL_SECONDS = 60.0
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
    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with flask_app().app_context():
            return self.run(*args, **kwargs)


def make_celery(config: dict[str, Any] | None = None) -> Celery:
    cfg = config or build_config()
    broker = str(cfg.get("QLVB_CELERY_BROKER_URL") or "memory://")
    queue = str(cfg.get("QLVB_CELERY_QUEUE") or "qlvb")
    celery = Celery("qlvb", broker=broker, task_cls=AppContextTask,
                    include=["app.jobs.workflow_tasks", "app.jobs.notification_tasks", "app.jobs.opinion_tasks",
                             "app.jobs.dossier_tasks", "app.jobs.interchange_tasks"])
    celery.conf.update(
        task_default_queue=queue,
        task_ignore_result=True,
        task_acks_late=True,  # a job killed mid-run is redelivered; every body is safe to run twice
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        timezone="Asia/Ho_Chi_Minh",
        broker_connection_retry_on_startup=True,
        beat_schedule={
            name: {"task": name, "schedule": INTERVAL_SECONDS, "options": {"expires": INTERVAL_SECONDS}}
            for name in PERIODIC
        },
    )
    return celery


app = make_celery()
