"""The embedded scheduler of `make run`: no broker configured -> a daemon thread runs the periodic jobs.

It starts with the first request a server process handles (so `flask qlvb …` commands never start it)
and runs every job every ``QLVB_JOB_INTERVAL`` seconds in its own app context. Several processes may
each run one: every job locks what it works on, so running twice is harmless.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask

from app.extensions import db

from .bodies import PERIODIC

log = logging.getLogger("qlvb.jobs")


def enabled(app: Flask) -> bool:
    cfg = app.config
    if cfg.get("QLVB_CELERY_BROKER_URL") or cfg.get("TESTING"):
        return False
    return bool(cfg.get("QLVB_EMBEDDED_JOBS", True))


def run_once(app: Flask) -> dict[str, int | str]:
    """Run every periodic job once; a failing job is logged and does not stop the others."""
    from app.core import logs
    from app.ops import metrics

    results: dict[str, int | str] = {}
    with app.app_context():
        for name, body in PERIODIC.items():
            token = logs.bind_request_id(f"job-{logs.new_request_id()}")
            try:
                results[name] = body()
                metrics.job_finished(name, failed=False)
            except Exception as exc:  # a job must never kill the scheduler
                metrics.job_finished(name, failed=True)
                log.exception("job %s failed", name)
                results[name] = f"error: {exc}"
            finally:
                logs.reset_request_id(token)
        db.session.remove()
    return results


class EmbeddedScheduler:
    def __init__(self, app: Flask, interval: float):
        self.app = app
        self.interval = interval
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="qlvb-jobs", daemon=True)
        # Work a request asked for after its commit (task-opened notices): a thread of its own, woken at once.
        self.soon_event = threading.Event()
        self.soon_thread = threading.Thread(target=self._soon_loop, name="qlvb-jobs-soon", daemon=True)

    def wake(self) -> None:
        self.soon_event.set()

    def _soon_loop(self) -> None:
        from .bodies import announce_notices

        while not self.stop_event.is_set():
            if not self.soon_event.wait(1.0):
                continue
            self.soon_event.clear()
            with self.app.app_context():
                try:
                    announce_notices()
                except Exception:  # the periodic run sweeps what is left
                    log.exception("job notifications.announce_pending failed")
                finally:
                    db.session.remove()

    def _loop(self) -> None:
        log.info("embedded job scheduler: every %.0f s (%s)", self.interval, ", ".join(PERIODIC))
        while not self.stop_event.is_set():
            run_once(self.app)
            self.stop_event.wait(self.interval)

    def start(self) -> None:
        self.thread.start()
        self.soon_thread.start()

    def stop(self) -> None:
        self.stop_event.set()


def install(app: Flask) -> None:
    if not enabled(app):
        return
    lock = threading.Lock()
    holder: dict[str, Any] = {}

    @app.before_request
    def _start_embedded_jobs() -> None:
        if "scheduler" in holder:
            return
        with lock:
            if "scheduler" not in holder:
                holder["scheduler"] = EmbeddedScheduler(app, float(app.config.get("QLVB_JOB_INTERVAL") or 60))
                holder["scheduler"].start()
                app.extensions["qlvb_embedded_jobs"] = holder["scheduler"]
