"""Password guessing against a real server: gunicorn with two worker processes (two "nodes" sharing nothing but
the database) on loopback, sixteen attempts sent together from sixteen client addresses.

On the old code the failure counter ended at 2 and the right password, sent with fifteen wrong ones, logged in.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.accounts import throttle
from app.accounts.models import LoginThrottle
from app.extensions import db

ROOT = Path(__file__).resolve().parents[3]
FREE = 5


@dataclass
class Answer:
    status: int
    location: str
    body: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def extra_env() -> dict[str, str]:
    return {}


@pytest.fixture
def server(app: Any, tmp_path: Path, extra_env: dict[str, str]) -> Iterator[int]:
    """gunicorn, two workers, on the test database; a long delay so the test never races the clock."""
    db.session.commit()
    db.session.remove()
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": app.config["SECRET_KEY"], "QLVB_INSTANCE_DIR": str(tmp_path / "instance"),
           "QLVB_UPLOAD_DIR": str(tmp_path / "files"), "QLVB_FAB_UPDATE_PERMS": "0", "QLVB_EMBEDDED_JOBS": "0",
           "QLVB_LOGIN_DELAY_SECONDS": "600", "QLVB_PASSWORD_MAX_FAILURES": str(FREE)}
    env.pop("QLVB_RATELIMIT_STORAGE_URI", None)
    env.pop("QLVB_CELERY_BROKER_URL", None)
    env.update(extra_env)
    log = (tmp_path / "gunicorn.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "8", "--bind",
                             f"127.0.0.1:{port}", "--timeout", "120", "app:create_app()"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/login/", headers={"Host": "qlvb.localhost"})
                if conn.getresponse().status in (200, 404):
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()[-3000:]
            time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


class Browser:
    """One client address with its own session cookie and CSRF token (fetched before the burst)."""

    def __init__(self, port: int, host: str, source: str):
        self.port, self.host, self.source = port, host, source
        conn = self._conn()
        conn.request("GET", "/login/", headers={"Host": host})
        resp = conn.getresponse()
        page = resp.read().decode()
        self.cookie = resp.getheader("Set-Cookie", "").split(";", 1)[0]
        self.token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    def _conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60, source_address=(self.source, 0))

    def login(self, email: str, password: str) -> Answer:
        body = urllib.parse.urlencode({"username": email, "password": password, "csrf_token": self.token})
        conn = self._conn()
        conn.request("POST", "/login/", body=body, headers={
            "Host": self.host, "Cookie": self.cookie, "Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        return Answer(resp.status, resp.getheader("Location", ""), resp.read().decode(errors="replace"))


def _attempts(name: str, engine: Any = None) -> int:
    table = LoginThrottle.__table__
    with (engine or db.engine).connect() as conn:
        value = conn.execute(select(table.c.attempts).where(table.c.key == "acct:" + throttle._digest(name))).scalar()
    return int(value or 0)


def _burst(port: int, host: str, email: str, wrong: int, right: str | None) -> tuple[list[Answer], Answer | None]:
    net = f"127.{secrets.randbelow(200) + 20}.{secrets.randbelow(250)}"
    browsers = [Browser(port, host, f"{net}.{i + 1}") for i in range(wrong + 1)]
    barrier = threading.Barrier(wrong + (1 if right else 0))
    answers: list[Answer | None] = [None] * wrong
    final: list[Answer] = []
    engine = db.engine  # threads have no app context

    def guess(i: int) -> None:
        barrier.wait()
        answers[i] = browsers[i].login(email, f"Doan-sai-{i}")

    def owner() -> None:
        barrier.wait()
        # Sent while the wrong ones are still in flight, once the free attempts are taken by them.
        deadline = time.monotonic() + 60
        while _attempts(email, engine) < FREE and time.monotonic() < deadline:
            time.sleep(0.01)
        final.append(browsers[-1].login(email, right or ""))

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(wrong)]
    if right:
        threads.append(threading.Thread(target=owner))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return [a for a in answers if a is not None], (final[0] if final else None)


def test_fifteen_wrong_and_the_right_password_together_do_not_log_in(server, make_agency, make_account):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    db.session.remove()
    wrong, right = _burst(server, f"{acc.host}:{server}", acc.email, 15, acc.password)
    assert len(wrong) == 15
    odd = [(w.status, w.body[:300]) for w in wrong if w.status not in (302, 429)]
    assert not odd, odd
    checked = [w for w in wrong if w.status == 302]
    refused = [w for w in wrong if w.status == 429]
    # Exactly the free attempts got a password check, across both workers; the rest waited their turn.
    assert len(checked) == FREE and all("/login" in w.location for w in checked)
    assert len(refused) == 15 - FREE and all("thử lại sau" in w.body for w in refused)
    assert right is not None and right.status == 429, (right.status, right.location) if right else None
    assert "thử lại sau" in right.body
    assert _attempts(acc.email) == FREE


def test_unknown_and_known_names_are_counted_alike_under_a_burst(server, make_agency):
    a = make_agency()
    ghost = f"khong-ton-tai-{secrets.token_hex(3)}@{a.code}.test.vn"
    db.session.remove()
    wrong, _ = _burst(server, f"{a.code}.localhost:{server}", ghost, 12, None)
    odd = [(w.status, w.body[:300]) for w in wrong if w.status not in (302, 429)]
    assert sorted(w.status for w in wrong) == [302] * FREE + [429] * (12 - FREE), odd
    assert _attempts(ghost) == FREE


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    binary = "/usr/bin/redis-server"
    if not Path(binary).exists():
        pytest.skip("redis-server is not installed (Debian package redis-server, see the Makefile)")
    port = _free_port()
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class TestSharedRateLimit:
    @pytest.fixture
    def extra_env(self, redis_url: str) -> dict[str, str]:
        # The database throttle out of the way (many free attempts): only Flask-Limiter's count decides here.
        return {"QLVB_REDIS_URL": redis_url, "QLVB_LOGIN_RATE_LIMIT": "3 per minute",
                "QLVB_PASSWORD_MAX_FAILURES": "100"}

    def test_the_login_rate_limit_is_counted_once_across_workers(self, server, make_agency, make_account):
        a = make_agency()
        acc = make_account(a.code, ["clerk"])
        db.session.remove()
        source = f"127.{secrets.randbelow(200) + 20}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
        browsers = [Browser(server, f"{acc.host}:{server}", source) for _ in range(8)]
        answers = [b.login(acc.email, f"Sai-{i}").status for i, b in enumerate(browsers)]
        # memory:// would give each of the two workers its own three; Redis holds one count for both.
        assert answers.count(302) == 3 and answers.count(429) == 5, answers
