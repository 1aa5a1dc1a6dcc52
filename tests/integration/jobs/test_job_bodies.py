"""The job bodies (what Celery and the embedded scheduler run) in this process."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.jobs import bodies, embedded
from app.notifications import queries
from app.workflow import services as wf
from app.workflow.models import HumanTask, ProcessInstance

from .timer_process import publish_timer_process


def _open_names(instance_id: int) -> list[str]:
    return list(db.session.scalars(select(HumanTask.name).where(HumanTask.instance_id == instance_id,
                                                                HumanTask.state == "open")))


def test_timer_boundary_event_fires_through_the_job_and_notifies(office: Any) -> None:
    publish_timer_process(office.agency.id, 1)
    inst = wf.start_instance(office.agency.id, "timer_test", subject_type="task", subject_id=1, data={},
                             actor=office["clerk"].actor)
    db.session.commit()
    assert _open_names(inst.id) == ["Xử lý trong hạn"]
    next_at = db.session.scalar(select(ProcessInstance.next_timer_at).where(ProcessInstance.id == inst.id))
    assert next_at is not None
    time.sleep(1.2)
    assert bodies.fire_due_timers() >= 1
    db.session.expire_all()
    assert _open_names(inst.id) == ["Xử lý việc quá hạn"]
    titles = [n.title for n in queries.notifications_for(office["clerk"].user_id, office.agency.id)]
    assert titles[0] == "Công việc mới: Xử lý việc quá hạn"


def test_embedded_scheduler_runs_every_job_and_survives_failures(app: Any, office: Any) -> None:
    db.session.rollback()  # SQLite begins every transaction IMMEDIATE: hold none while the scheduler writes
    results = embedded.run_once(app)
    assert set(results) == {"workflow.fire_due_timers", "notifications.send_due_reminders",
                            "notifications.announce_pending", "delegations.notify_started",
                            "opinions.send_reminders", "dossiers.send_deposit_reminders",
                            "notifications.deliver_email", "interchange.send_outbox", "interchange.poll_axis",
                            "intake.poll_mailboxes"}
    assert all(isinstance(v, int) for v in results.values()), results
    assert not embedded.enabled(app)  # tests: TESTING is on, nothing starts behind their back


def test_embedded_scheduler_starts_only_without_broker() -> None:
    class Fake:
        def __init__(self, **config: Any) -> None:
            self.config = config

    assert embedded.enabled(Fake(QLVB_CELERY_BROKER_URL="", TESTING=False))  # type: ignore[arg-type]
    assert not embedded.enabled(Fake(QLVB_CELERY_BROKER_URL="redis://x", TESTING=False))  # type: ignore[arg-type]
    assert not embedded.enabled(Fake(QLVB_CELERY_BROKER_URL="", QLVB_EMBEDDED_JOBS=False))  # type: ignore[arg-type]
