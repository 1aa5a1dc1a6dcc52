"""SQLite as a serious embedded database: WAL, a generous busy timeout and foreign keys.

WAL lets readers run while one request writes; the busy timeout makes a second writer queue instead
of failing at once with "database is locked". pysqlite keeps its default of beginning a transaction at
the first write, so plain reads never hold a lock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.engine import Engine

from app.core.files import private_file


class AwareDATETIME(DATETIME):
    """SQLite keeps no offset: we store UTC, so a DateTime(timezone=True) column reads back as UTC-aware,
    exactly as it does on PostgreSQL (Python comparisons with clock.now() then work on both)."""

    def bind_processor(self, dialect: Any) -> Any:
        inner = super().bind_processor(dialect)

        def process(value: Any) -> Any:
            if isinstance(value, dt.datetime) and value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            return inner(value) if inner else value

        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        inner = super().result_processor(dialect, coltype)
        if not self.timezone:
            return inner

        def process(value: Any) -> Any:
            value = inner(value) if inner else value
            if isinstance(value, dt.datetime) and value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            return value

        return process


def configure(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    engine.dialect.colspecs = {**engine.dialect.colspecs, sqltypes.DateTime: AwareDATETIME}

    database = engine.url.database

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        if database and database != ":memory:" and not database.startswith("file:"):
            # The database holds every agency's documents: owner-only, WAL and shared-memory files too.
            for suffix in ("", "-wal", "-shm"):
                private_file(database + suffix)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # WAL + NORMAL: an app crash loses nothing; only a power cut may lose the very last commits.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
