"""Outside development a node whose configuration would drift stops at start, in Vietnamese and English."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import ConfigurationError
from app.ops.startup import check_production, configuration_problems
from tests.support.cluster import free_port

ROOT = Path(__file__).resolve().parents[3]
GOOD_KEY = "k" * 48
PG_URL = "postgresql+psycopg://qlvb@10.10.0.20:6432/qlvb"


def _production_app(tmp_path: Path, **override: Any) -> Any:
    from app import create_app

    return create_app({"QLVB_ENV": "production", "SECRET_KEY": GOOD_KEY, "SQLALCHEMY_DATABASE_URI": PG_URL,
                       "QLVB_CELERY_BROKER_URL": "", "QLVB_INSTANCE_DIR": str(tmp_path / "instance"),
                       "QLVB_UPLOAD_DIR": str(tmp_path / "files"), "QLVB_BROKER_CHECK_TIMEOUT": 2, **override})


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def test_missing_secret_key_stops_create_app(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as err:
        _production_app(tmp_path, SECRET_KEY="")
    text = str(err.value)
    assert "QLVB không khởi động" in text and "refuses to start" in text
    assert "Chưa đặt SECRET_KEY" in text and "SECRET_KEY is not set" in text


def test_short_secret_key_and_sqlite_are_both_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as err:
        _production_app(tmp_path, SECRET_KEY="ngan", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.sqlite3")
    assert len(err.value.details) == 2
    assert "SECRET_KEY quá ngắn (4 ký tự" in err.value.details[0]
    assert "SQLite" in err.value.details[1] and "PostgreSQL" in err.value.details[1]
    assert not (tmp_path / "x.sqlite3").exists()  # refused before anything was opened


@pytest.mark.parametrize("scheme", ["redis://127.0.0.1:{port}/0", "amqp://guest:guest@127.0.0.1:{port}//"])
def test_unreachable_broker_stops_create_app(tmp_path: Path, scheme: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        _production_app(tmp_path, QLVB_CELERY_BROKER_URL=scheme.format(port=free_port()))
    (problem,) = err.value.details
    assert "Không kết nối được hàng đợi công việc QLVB_CELERY_BROKER_URL" in problem
    assert "broker set in QLVB_CELERY_BROKER_URL is unreachable" in problem
    assert "guest:guest" not in problem  # the password is not written to the journal


def test_a_sound_production_configuration_passes() -> None:
    config = {"QLVB_ENV": "production", "SECRET_KEY": GOOD_KEY, "SQLALCHEMY_DATABASE_URI": PG_URL}
    assert configuration_problems(config) == []
    if _redis_up():
        check_production({**config, "QLVB_CELERY_BROKER_URL": "redis://127.0.0.1:6379/15"})
    # Development is left alone: SQLite and a key made up and kept in instance/ are its embedded defaults.
    check_production({"QLVB_ENV": "development", "SECRET_KEY": "", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_never_makes_up_a_secret_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import build_config

    monkeypatch.setenv("QLVB_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("QLVB_INSTANCE_DIR", str(tmp_path))
    cfg = build_config()
    assert cfg["SECRET_KEY"] == "" and cfg["QLVB_ENV"] == "production"
    assert not (tmp_path / "secret_key").exists()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QLVB_", "DATABASE_URL", "SECRET_KEY"))}
    env.update({"QLVB_ENV": "production", "QLVB_INSTANCE_DIR": str(tmp_path / "instance"),
                "QLVB_UPLOAD_DIR": str(tmp_path / "files"), **extra})
    return env


def test_gunicorn_exits_non_zero_with_the_message(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{free_port()}", "--workers", "1", "app:create_app()"],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "QLVB không khởi động" in proc.stderr and "QLVB refuses to start" in proc.stderr
    assert "SECRET_KEY is not set" in proc.stderr and "DATABASE_URL is unset or SQLite" in proc.stderr


def test_celery_worker_exits_non_zero_at_start(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "celery"), "-A", "app.jobs.celery_app", "worker", "--pool=solo",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=_env(tmp_path, SECRET_KEY=GOOD_KEY, QLVB_CELERY_BROKER_URL="memory://"),
        capture_output=True, text=True, timeout=90)
    assert proc.returncode != 0
    assert "DATABASE_URL is unset or SQLite" in proc.stdout + proc.stderr
