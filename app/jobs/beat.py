"""Exactly one Celery beat for the province, however many are started.

Each beat process asks for one lock before it sends anything: on PostgreSQL a session advisory lock held on a
connection of its own (the server frees it the moment that process or its connection dies), on SQLite (one host
only) an exclusive ``flock`` on a file in the instance folder. The beat holding the lock schedules as usual; the
others check again every few seconds and take over within that time when the holder stops. No table, no
migration, no Redis: the lock lives where the data does, whatever broker (Redis, RabbitMQ) carries the jobs.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import IO, Any

from celery.beat import PersistentScheduler

log = logging.getLogger("qlvb.beat")

RETRY_SECONDS = 5.0


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for ``name`` (two deployments on one server do not collide)."""
    return int.from_bytes(hashlib.sha256(f"qlvb-beat:{name}".encode()).digest()[:8], "big", signed=True)


class BeatLock:
    """``held()`` is True while this process holds the province's beat lock; it (re)tries to take it when not."""

    def __init__(self, database_url: str, name: str, lock_dir: str | os.PathLike[str]):
        self.url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.name = name
        self.key = lock_key(name)
        self.lock_path = Path(lock_dir) / f"celerybeat-{name}.lock"
        self._conn: Any = None
        self._file: IO[str] | None = None
        self._holding = False

    @property
    def postgres(self) -> bool:
        return self.url.startswith(("postgresql://", "postgres://"))

    def held(self) -> bool:
        was = self._holding
        try:
            self._holding = self._check_postgres() if self.postgres else self._check_file()
        except Exception as exc:  # the database away: not holding; try again on the next tick
            log.warning("beat lock unavailable: %s", exc)
            self._drop()
            self._holding = False
        if self._holding and not was:
            log.info("beat lock %s taken: this beat schedules the periodic jobs", self.name)
        elif was and not self._holding:
            log.warning("beat lock %s lost: this beat stops scheduling", self.name)
        return self._holding

    def _check_postgres(self) -> bool:
        import psycopg

        if self._conn is not None and self._holding:
            self._conn.execute("SELECT 1")  # still connected means still holding (the lock is the session's)
            return True
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5,
                                         application_name=f"qlvb-beat-{os.getpid()}")
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        return bool(row and row[0])

    def _check_file(self) -> bool:
        if self._file is not None:
            return True
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.lock_path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # already gone
                log.debug("closing the beat lock connection failed", exc_info=True)
            self._conn = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def release(self) -> None:
        self._drop()
        self._holding = False


class SingleBeatScheduler(PersistentScheduler):  # type: ignore[misc]
    """Celery's persistent scheduler, ticking only in the beat that holds the lock."""

    def __init__(self, *args: Any, **kwargs: Any):
        from app.config import build_config

        cfg = build_config()
        self.beat_lock = BeatLock(str(cfg["SQLALCHEMY_DATABASE_URI"]), str(cfg.get("QLVB_CELERY_QUEUE") or "qlvb"),
                                  str(cfg["QLVB_INSTANCE_DIR"]))
        self._waiting_logged = False
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.beat_lock.held():
            if not self._waiting_logged:
                log.info("another beat holds the lock %s: waiting (checking every %.0f s)", self.beat_lock.name,
                         RETRY_SECONDS)
                self._waiting_logged = True
            return RETRY_SECONDS
        self._waiting_logged = False
        return float(min(super().tick(*args, **kwargs), RETRY_SECONDS * 2))

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.beat_lock.release()
