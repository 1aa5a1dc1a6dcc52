"""ProxyFix by QLVB_TRUSTED_PROXIES, request ids in and out, JSON log lines, and ids carried into Celery jobs."""

from __future__ import annotations

import contextlib
import io
import json
import logging
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
from sqlalchemy import select

from app import _trust_proxies
from app.accounts.models import AuditEvent
from app.core import logs
from app.extensions import db

ROOT = Path(__file__).resolve().parents[3]
BROKER = "redis://127.0.0.1:6379/13"


@contextlib.contextmanager
def trusted_hops(app: Any, hops: int) -> Iterator[None]:
    saved = app.wsgi_app
    _trust_proxies(app, hops)
    try:
        yield
    finally:
        app.wsgi_app = saved


def _login_ip(account: Any) -> str | None:
    db.session.rollback()
    return db.session.scalar(select(AuditEvent.ip).where(AuditEvent.user_id == account.user_id,
                                                         AuditEvent.kind == "login").order_by(AuditEvent.id.desc()))


@pytest.mark.parametrize(("hops", "expected"), [(0, "127.0.0.1"), (1, "203.0.113.5"), (2, "198.51.100.1")])
def test_audit_ip_believes_exactly_the_trusted_hops(app: Any, make_agency: Callable[..., Any],
                                                    make_account: Callable[..., Any],
                                                    client_for: Callable[[str], Any], hops: int, expected: str) -> None:
    account = make_account(make_agency().code, ["clerk"])
    client = client_for(account.host)
    forwarded = {"X-Forwarded-For": "198.51.100.1, 203.0.113.5"}  # outer proxy saw .1, the inner one .5
    with trusted_hops(app, hops):
        page = client.get("/login/", headers=forwarded)
        from tests.support.web import csrf_token

        resp = client.post("/login/", headers=forwarded, data={
            "username": account.email, "password": account.password,
            "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert resp.status_code == 302 and "/login" not in resp.headers["Location"]
    assert _login_ip(account) == expected


def test_request_id_is_kept_made_or_replaced(app: Any) -> None:
    client = app.test_client()
    assert client.get("/healthz", headers={"X-Request-Id": "abc-123.x"}).headers["X-Request-Id"] == "abc-123.x"
    made = client.get("/healthz").headers["X-Request-Id"]
    assert len(made) == 32 and made != client.get("/healthz").headers["X-Request-Id"]
    unsafe = client.get("/healthz", headers={"X-Request-Id": "has spaces; and=more"}).headers["X-Request-Id"]
    assert unsafe != "has spaces; and=more" and len(unsafe) == 32
    assert client.get("/healthz", headers={"X-Request-Id": "x" * 200}).headers["X-Request-Id"] != "x" * 200


def test_json_log_lines_carry_the_request_id_and_vietnamese_text() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.formatter("json"))
    handler.addFilter(logs.RequestIdFilter())
    logger = logging.getLogger("qlvb.test.jsonlog")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    token = logs.bind_request_id("req-42")
    try:
        logger.info("Đã vào sổ văn bản %s", "12/UBND", extra={"agency": "isotttt"})
    finally:
        logs.reset_request_id(token)
        logger.removeHandler(handler)
    logger.info("after")
    (line,) = out.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "Đã vào sổ văn bản 12/UBND" and "Đã vào" in line  # not \\u-escaped
    assert record["request_id"] == "req-42" and record["level"] == "INFO" and record["agency"] == "isotttt"
    assert record["logger"] == "qlvb.test.jsonlog" and record["time"]


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.worker
def test_request_id_travels_into_a_celery_job(app: Any, tmp_path: Path) -> None:
    if not _redis_up():
        pytest.skip("Redis không chạy trên 127.0.0.1:6379")
    import redis

    from app.jobs.celery_app import make_celery

    redis.Redis.from_url(BROKER).flushdb()
    queue = f"qlvb-rid-{secrets.token_hex(4)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QLVB_")}
    env.update({"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "QLVB_CELERY_BROKER_URL": BROKER,
                "QLVB_CELERY_QUEUE": queue, "QLVB_INSTANCE_DIR": str(tmp_path / "instance"),
                "QLVB_UPLOAD_DIR": str(tmp_path / "files"), "QLVB_FAB_UPDATE_PERMS": "0", "SECRET_KEY": "w" * 40,
                "QLVB_LOG_FORMAT": "json"})
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "app.jobs.celery_app", "worker", "--pool=solo",
             "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    celery = make_celery({"QLVB_CELERY_BROKER_URL": BROKER, "QLVB_CELERY_QUEUE": queue})
    try:
        token = logs.bind_request_id("from-the-web-7")
        try:
            celery.send_task("notifications.deliver_email", queue=queue)
        finally:
            logs.reset_request_id(token)
        done = None
        deadline = time.monotonic() + 90
        while done is None and time.monotonic() < deadline and proc.poll() is None:
            for line in log_path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    record = json.loads(line)
                    if record.get("message", "").startswith("job notifications.deliver_email done"):
                        done = record
            time.sleep(0.3)
        assert done is not None, log_path.read_text()[-3000:]
        assert done["request_id"] == "from-the-web-7" and done["logger"] == "qlvb.jobs"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        celery.close()
