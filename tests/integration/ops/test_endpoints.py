"""/healthz, /readyz and /metrics on the app itself (the cluster tests run them behind nginx)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.jobs import embedded
from app.notifications import services as notifications
from app.workflow import queries as wf_queries
from app.workflow import services as wf
from tests.support.cluster import free_port
from tests.support.ops import publish_template

TOKEN = "tok-" + "m" * 20


@contextlib.contextmanager
def database_gone() -> Iterator[list[str]]:
    seen: list[str] = []

    def refuse(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        seen.append(statement)
        raise OperationalError(statement, params, Exception("could not connect to server: Connection refused"))

    event.listen(db.engine, "before_cursor_execute", refuse)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", refuse)


@contextlib.contextmanager
def configured(**values: Any) -> Iterator[None]:
    saved = {k: current_app.config.get(k) for k in values}
    current_app.config.update(values)
    try:
        yield
    finally:
        current_app.config.update(saved)


def _value(text: str, prefix: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


def test_healthz_answers_on_any_host_without_the_database(app: Any) -> None:
    client = app.test_client()
    with database_gone() as seen:
        resp = client.get("/healthz", base_url="http://10.1.2.3")  # a load balancer probing by IP
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}
    assert seen == []  # not one statement: the agency lookup and the login are skipped too
    assert resp.headers["X-Request-Id"]


def test_readyz_names_the_part_that_failed(app: Any, tmp_path: Path) -> None:
    client = app.test_client()
    ok = client.get("/readyz", base_url="http://10.1.2.3")
    assert ok.status_code == 200, ok.get_data(as_text=True)
    body = ok.get_json()
    assert body["status"] == "ok" and body["failed"] == [] and set(body["checks"]) == {"database", "storage"}

    with database_gone():
        down = client.get("/readyz")
    assert down.status_code == 503 and down.get_json()["failed"] == ["database"]
    assert down.get_json()["checks"]["database"]["label"] == "Cơ sở dữ liệu kết nối được"

    with configured(QLVB_CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0", QLVB_BROKER_CHECK_TIMEOUT=1):
        no_broker = client.get("/readyz")
    assert no_broker.status_code == 503 and no_broker.get_json()["failed"] == ["broker"]

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    with configured(QLVB_UPLOAD_DIR=str(blocker)):
        no_storage = client.get("/readyz")
    assert no_storage.status_code == 503 and no_storage.get_json()["failed"] == ["storage"]
    assert client.get("/readyz").status_code == 200  # each part back: ready again


def test_metrics_only_with_the_bearer_token(app: Any) -> None:
    client = app.test_client()
    with configured(QLVB_METRICS_TOKEN=""):
        assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    with configured(QLVB_METRICS_TOKEN=TOKEN):
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"}).status_code == 404
        resp = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = resp.get_data(as_text=True)
    assert "# TYPE qlvb_http_requests_total counter" in text
    assert "# TYPE qlvb_http_request_duration_seconds histogram" in text
    assert "qlvb_database_up 1.0" in text and "# TYPE qlvb_workflow_open_incidents gauge" in text


def test_metrics_count_requests_steps_jobs_and_queued_mail(app: Any, office: Any) -> None:
    client = app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with configured(QLVB_METRICS_TOKEN=TOKEN):
        before = client.get("/metrics", headers=auth).get_data(as_text=True)
        for _ in range(3):
            client.get("/healthz")
        client.get("/khong-co-trang-nay", base_url=f"http://{office.agency.code}.localhost")
        publish_template(office.agency.id, "incoming")
        inst = wf.start_instance(office.agency.id, "incoming", subject_type="test", subject_id=1, data={},
                                 actor=office["clerk"].actor)
        (register,) = wf_queries.open_tasks(inst.id)
        wf.complete_task(register.id, office["clerk"].actor, {"summary": "Công văn"})
        db.session.commit()
        notifications.notify([office["spec_a"].user_id], agency_id=office.agency.id, kind="calendar", title="Lịch")
        db.session.commit()
        with configured(QLVB_SMTP_HOST=""):  # the job runs; the message stays queued on this node
            embedded.run_once(app)
        after = client.get("/metrics", headers=auth).get_data(as_text=True)
    healthz = 'qlvb_http_requests_total{endpoint="/healthz",method="GET",status="200"}'
    assert _value(after, healthz) == _value(before, healthz) + 3
    unmatched = 'qlvb_http_requests_total{endpoint="<unmatched>",method="GET",status="404"}'
    assert _value(after, unmatched) == _value(before, unmatched) + 1
    steps = 'qlvb_workflow_steps_completed_total{process="incoming"}'
    assert _value(after, steps) == _value(before, steps) + 1
    for job in ("notifications.deliver_email", "workflow.fire_due_timers"):
        runs = f'qlvb_job_runs_total{{job="{job}"}}'
        assert _value(after, runs) == _value(before, runs) + 1
    assert _value(after, "qlvb_email_outbox_pending ") >= 1
