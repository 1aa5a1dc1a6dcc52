"""A real Celery worker on Redis (db 15) fires timers and deadline reminders against the test database."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select, update

from app.core import clock
from app.extensions import db
from app.jobs.celery_app import make_celery
from app.notifications import queries
from app.workflow import services as wf
from app.workflow.models import HumanTask

from .timer_process import publish_timer_process

BROKER = "redis://127.0.0.1:6379/15"
ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.worker


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def worker(app: Any, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    if not _redis_up():
        pytest.skip("Redis không chạy trên 127.0.0.1:6379")
    redis.Redis.from_url(BROKER).flushdb()
    queue = f"qlvb-test-{secrets.token_hex(4)}"
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "QLVB_CELERY_BROKER_URL": BROKER,
           "QLVB_CELERY_QUEUE": queue, "QLVB_INSTANCE_DIR": str(tmp_path / "instance"),
           "QLVB_UPLOAD_DIR": str(tmp_path / "files"), "QLVB_FAB_UPDATE_PERMS": "0", "SECRET_KEY": "w" * 40}
    log = (tmp_path / "worker.log").open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "app.jobs.celery_app", "worker", "--pool=solo", "-Q", queue,
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    celery = make_celery({"QLVB_CELERY_BROKER_URL": BROKER, "QLVB_CELERY_QUEUE": queue})
    try:
        yield celery, queue
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        celery.close()
        if proc.returncode not in (0, -15):
            print((tmp_path / "worker.log").read_text()[-3000:])


def _wait_for(check: Callable[[], Any], timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        db.session.rollback()  # SQLite begins transactions IMMEDIATE: never hold one while the worker writes
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError("the worker did not do it in time")


def test_worker_fires_bpmn_timer_and_sends_overdue_reminder(office: Any, worker: tuple[Any, str]) -> None:
    celery, queue = worker
    aid, clerk = office.agency.id, office["clerk"].user_id
    publish_timer_process(aid, 2)
    inst = wf.start_instance(aid, "timer_test", subject_type="task", subject_id=7, data={},
                             actor=office["clerk"].actor)
    db.session.commit()
    time.sleep(2.2)
    celery.send_task("workflow.fire_due_timers", queue=queue)

    def escalated() -> Any:
        return db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id, HumanTask.state == "open",
                                                         HumanTask.bpmn_id == "escalate"))

    task = _wait_for(escalated)
    titles = [n.title for n in queries.notifications_for(clerk, aid)]
    assert "Công việc mới: Xử lý việc quá hạn" in titles  # the subscriber ran inside the worker's job

    # The deadline of the escalated step passes; the worker's reminder job tells the clerk.
    db.session.execute(update(HumanTask).where(HumanTask.id == task.id)
                       .values(due_at=clock.now() + dt.timedelta(seconds=1)))
    db.session.commit()
    time.sleep(1.5)
    celery.send_task("notifications.send_due_reminders", queue=queue)
    overdue = _wait_for(lambda: [n for n in queries.notifications_for(clerk, aid) if n.kind == "overdue"])
    assert [n.title for n in overdue] == ["Quá hạn: Xử lý việc quá hạn"]
    assert overdue[0].link == f"/tasks/{task.id}"
