"""Two Celery beats started on one deployment: only the lock holder sends; kill -9 it and the other takes over."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.jobs.beat import BeatLock
from tests.support.cluster import stop

ROOT = Path(__file__).resolve().parents[3]
BROKER = "redis://127.0.0.1:6379/12"
SENT = re.compile(r"Sending due task (\S+)")
pytestmark = pytest.mark.worker


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def _wait_for(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    return check()


def _sent(log: Path) -> list[str]:
    return SENT.findall(log.read_text(errors="replace")) if log.exists() else []


def test_only_one_of_two_beats_sends_and_the_other_takes_over(app: Any, tmp_path: Path) -> None:
    if not _redis_up():
        pytest.skip("Redis không chạy trên 127.0.0.1:6379")
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    queue = f"qlvb-beat-{secrets.token_hex(4)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QLVB_")}
    env.update({"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "QLVB_CELERY_BROKER_URL": BROKER,
                "QLVB_CELERY_QUEUE": queue, "QLVB_INSTANCE_DIR": str(tmp_path / "instance"),
                "QLVB_BEAT_INTERVAL": "1", "SECRET_KEY": "b" * 40})
    beats: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    try:
        for name in ("one", "two"):
            log = tmp_path / f"beat-{name}.log"
            with log.open("wb") as out:
                beats[name] = (subprocess.Popen(
                    [str(Path(sys.executable).parent / "celery"), "-A", "app.jobs.celery_app", "beat",
                     "--loglevel=INFO", f"--schedule={tmp_path / f'schedule-{name}'}"],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT), log)
        # Both are up; one took the lock and sends every job, the other waits.
        assert _wait_for(lambda: all("waiting" in lg.read_text() or _sent(lg) for _p, lg in beats.values()))
        active = _wait_for(lambda: [n for n, (_p, lg) in beats.items() if len(set(_sent(lg))) >= 5])
        assert len(active) == 1, {n: _sent(lg)[:5] for n, (_p, lg) in beats.items()}
        holder, waiter = active[0], next(n for n in beats if n != active[0])
        assert _sent(beats[waiter][1]) == []
        assert "another beat holds the lock" in beats[waiter][1].read_text()

        # The holder dies without a word; the server frees its lock and the other beat takes over.
        beats[holder][0].send_signal(signal.SIGKILL)
        beats[holder][0].wait(timeout=10)
        taken = _wait_for(lambda: len(set(_sent(beats[waiter][1]))) >= 5)
        assert taken, beats[waiter][1].read_text()[-2000:]
        assert "beat lock" in beats[waiter][1].read_text() and "taken" in beats[waiter][1].read_text()
    finally:
        for proc, _log in beats.values():
            stop(proc)


def test_the_lock_is_exclusive_and_freed_by_release(app: Any, tmp_path: Path) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    name = f"t{secrets.token_hex(3)}"
    first, second = BeatLock(url, name, tmp_path), BeatLock(url, name, tmp_path)
    try:
        assert first.held() and first.held()  # and keeps it
        assert not second.held()
        first.release()
        assert second.held()
        assert not first.held()
    finally:
        first.release()
        second.release()
