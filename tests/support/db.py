"""A fresh database per test session: a new PostgreSQL database when DATABASE_URL says so, else SQLite."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg


def _pg_url_parts(url: str) -> tuple[str, str]:
    base, _, name = url.rpartition("/")
    return base, name.split("?", 1)[0]


@contextmanager
def fresh_database_url(tmp_dir: Path) -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        yield f"sqlite:///{tmp_dir / 'test.sqlite3'}"
        return
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    base, _ = _pg_url_parts(plain)
    name = f"qlvb_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def is_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgresql", "postgres"))
