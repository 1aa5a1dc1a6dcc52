"""nginx in front of two gunicorn nodes: both serve, the client's address is the one nginx saw, ids follow requests."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from app.accounts.models import AuditEvent
from app.extensions import db
from tests.support.cluster import Client

from .conftest import METRICS_TOKEN, PER_IP_LIMIT, Cluster


def _wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    return check()


def test_requests_through_nginx_reach_both_nodes(cluster: Cluster) -> None:
    client = cluster.proxy.client("anything.example")
    upstreams = set()
    for _ in range(12):
        resp = client.get("/healthz")
        assert resp.status == 200 and resp.json() == {"status": "ok"}
        upstreams.add(resp.headers["x-qlvb-upstream"])
    assert upstreams == {f"127.0.0.1:{n.port}" for n in cluster.nodes}
    ready = client.get("/readyz")
    assert ready.status == 200, ready.text
    assert ready.json()["status"] == "ok" and set(ready.json()["checks"]) >= {"database", "storage"}


def test_request_id_goes_in_and_out_and_into_the_node_log(cluster: Cluster, make_agency: Callable[..., Any]) -> None:
    agency = make_agency()
    client = cluster.proxy.client(f"{agency.code}.localhost", source="127.0.0.42")
    resp = client.get("/login/", headers={"X-Request-Id": "kiem-tra-123"})
    assert resp.status == 200 and resp.headers["x-request-id"] == "kiem-tra-123"
    made = client.get("/login/")  # none sent: nginx makes one, the app keeps it
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])

    def access_line() -> Any:
        lines = [line for node in cluster.nodes for line in node.log_lines()]
        return next((line for line in lines if line.get("request_id") == "kiem-tra-123"
                     and line.get("logger") == "qlvb.access"), None)

    line = _wait_for(access_line)
    assert line is not None
    assert line["path"] == "/login/" and line["status"] == 200 and line["level"] == "INFO"
    assert line["remote_addr"] == "127.0.0.42"  # the client nginx saw, not nginx's own 127.0.0.1
    # gunicorn's own lines are JSON too (deploy/gunicorn.conf.py), so the journal has one format.
    booted = [line for line in cluster.nodes[0].log_lines() if line.get("logger") == "gunicorn.error"]
    assert any(line["message"].startswith("Booting worker") for line in booted)


def test_audit_log_records_the_forwarded_client_not_nginx(cluster: Cluster, make_agency: Callable[..., Any],
                                                          make_account: Callable[..., Any]) -> None:
    agency = make_agency()
    account = make_account(agency.code, ["clerk"])
    client = cluster.proxy.client(account.host, source="127.0.0.7")
    # A client cannot choose its address by sending X-Forwarded-For: nginx appends the one it saw, and the app
    # believes only that last hop (QLVB_TRUSTED_PROXIES=1).
    resp = client.login(account.email, account.password, headers={"X-Forwarded-For": "203.0.113.9"})
    assert resp.status == 302 and "/login" not in resp.headers.get("location", ""), resp.text[:300]

    def login_rows() -> list[AuditEvent]:
        db.session.rollback()
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.user_id == account.user_id,
                                                                AuditEvent.kind == "login")))

    (row,) = _wait_for(login_rows)
    assert row.ip == "127.0.0.7" and row.success


def test_login_limit_per_address_counts_each_client_across_both_nodes(cluster: Cluster,
                                                                      make_agency: Callable[..., Any]) -> None:
    agency = make_agency()
    host = f"{agency.code}.localhost"
    guesser = cluster.proxy.client(host, source="127.0.0.21")
    page = guesser.get("/login/")
    from tests.support.web import csrf_token

    token = csrf_token(page.text)
    served_by = set()
    statuses = []
    for i in range(PER_IP_LIMIT + 1):  # a different account each time: only the per-address limit applies
        resp = guesser.post_form("/login/", {"username": f"khong-co-{i}@{agency.code}.test.vn", "password": "sai",
                                             "csrf_token": token})
        statuses.append(resp.status)
        served_by.add(resp.headers["x-qlvb-upstream"])
    # A refused login sends the browser back to the form (302); over the limit it is 429.
    assert statuses[:PER_IP_LIMIT] == [302] * PER_IP_LIMIT and statuses[-1] == 429, statuses
    assert len(served_by) == 2  # both nodes counted into one limit (shared Redis storage)
    # Another client of the same office is not throttled by the first one's guesses.
    colleague = cluster.proxy.client(host, source="127.0.0.22")
    resp = colleague.post_form("/login/", {"username": "ai-do@x.vn", "password": "sai",
                                           "csrf_token": csrf_token(colleague.get("/login/").text)})
    assert resp.status == 302


def _healthz_count(text: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith("qlvb_http_requests_total{") and 'endpoint="/healthz"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_need_the_token_and_add_up_every_worker_of_a_node(cluster: Cluster) -> None:
    via_nginx = cluster.proxy.client("qlvb.localhost")
    assert via_nginx.get("/metrics").status == 404
    assert via_nginx.get("/metrics", headers={"Authorization": "Bearer sai"}).status == 404
    node = cluster.nodes[0]
    direct = Client(node.port, "qlvb.localhost")
    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    before = _healthz_count(direct.get("/metrics", headers=auth).text)
    for _ in range(10):
        assert direct.get("/healthz").status == 200
    # Each scrape is answered by whichever of the node's two workers is free; every one sees the same total.
    seen = {_healthz_count(direct.get("/metrics", headers=auth).text) for _ in range(6)}
    assert seen == {before + 10}
    text = direct.get("/metrics", headers=auth).text
    assert "qlvb_http_request_duration_seconds_bucket" in text and "qlvb_database_up 1.0" in text
    assert "# TYPE qlvb_workflow_open_incidents gauge" in text and "qlvb_email_outbox_pending" in text
