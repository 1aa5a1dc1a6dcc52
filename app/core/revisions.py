"""Revision counters for what every node caches: definitions that change rarely and are read on every request.

One row per kind of definition (``security``: roles and their permissions; ``org``: agencies, departments,
positions, staff; ``forms``: published form versions; ``maintenance``: maintenance windows). A transaction that
changes a watched model bumps its kind's counter in the same transaction (a flush hook, so every writer is
covered: services, FAB's admin views, imports), and a node's cache entry is used only while the counter it was
built under is still the one in the database. A request reads all counters once, in its first query
(``load()``), so it sees either the old definition or the new one, never a stale one after the change is
committed, whichever node serves it. No time-based expiry.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import g, has_request_context
from sqlalchemy import BigInteger, String, event, insert, inspect, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.extensions import Model, db

T = TypeVar("T")

NAMES = ("security", "org", "forms", "maintenance")
_G_KEY = "_qlvb_revisions"
_PENDING = "qlvb_revisions_bumped"


class CacheRevision(Model):
    __tablename__ = "cache_revision"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


# model class -> (revision name, attributes whose change matters; None: any change)
_watched: dict[type, tuple[str, frozenset[str] | None]] = {}


def watch(model: type, name: str, *, attributes: Iterable[str] | None = None) -> None:
    """Bump ``name`` whenever a row of ``model`` is added, deleted or (one of ``attributes``) changed."""
    if name not in NAMES:
        raise ValueError(f"unknown revision {name!r}")
    _watched[model] = (name, frozenset(attributes) if attributes is not None else None)


def _kind_of(obj: Any, *, changed: bool) -> str | None:
    for cls in type(obj).__mro__:
        found = _watched.get(cls)
        if found is None:
            continue
        name, attributes = found
        if not changed or attributes is None:
            return name
        state = inspect(obj)
        if any(state.attrs[a].history.has_changes() for a in attributes if a in state.attrs):
            return name
        return None
    return None


def _names_touched(session: Session) -> set[str]:
    names = {_kind_of(o, changed=False) for o in (*session.new, *session.deleted)}
    names |= {_kind_of(o, changed=True) for o in session.dirty if session.is_modified(o)}
    names.discard(None)
    return names  # type: ignore[return-value]


def _after_flush(session: Session, _flush_context: Any) -> None:
    names = _names_touched(session)
    if names:
        bump(*sorted(names), session=session)


def bump(*names: str, session: Session | None = None) -> None:
    """Advance the counters (in the caller's transaction); for changes the flush hook cannot see."""
    session = session or db.session()
    conn = session.connection()
    table = CacheRevision.__table__
    for name in names:
        result = conn.execute(update(table).where(table.c.name == name).values(revision=table.c.revision + 1))
        if not result.rowcount:
            conn.execute(insert(table).values(name=name, revision=1))
    session.info[_PENDING] = True
    if has_request_context():
        g.pop(_G_KEY, None)


def _transaction_over(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost one: a savepoint's end leaves the bump pending
        session.info.pop(_PENDING, None)


def install() -> None:
    """Connect the flush hook (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_transaction_end", _transaction_over)


def read_all() -> dict[str, int]:
    rows = db.session.execute(select(CacheRevision.name, CacheRevision.revision)).all()
    found = {name: 0 for name in NAMES}
    found.update({name: int(revision) for name, revision in rows})
    return found


# Called with the counters whenever a request reads them (e.g. to check what it resolved before reading them).
_on_read: list[Callable[[dict[str, int]], None]] = []


def on_read(callback: Callable[[dict[str, int]], None]) -> None:
    if callback not in _on_read:
        _on_read.append(callback)


def columns() -> list[Any]:
    """Every counter as a column, for a request's first query to read them at no extra round trip."""
    table = CacheRevision.__table__
    return [select(table.c.revision).where(table.c.name == name).scalar_subquery().label(f"qlvb_rev_{name}")
            for name in NAMES]


def remember(values: Iterable[int | None]) -> dict[str, int]:
    """Keep the counters read as ``columns()`` of another query, for the rest of the request."""
    found = {name: int(value or 0) for name, value in zip(NAMES, values, strict=True)}
    if has_request_context():
        setattr(g, _G_KEY, found)
        for callback in _on_read:
            callback(found)
    return found


def load() -> dict[str, int]:
    """Every counter, read in one query; inside a request kept for the rest of it."""
    values = read_all()
    if has_request_context():
        setattr(g, _G_KEY, values)
        for callback in _on_read:
            callback(values)
    return values


def current(name: str) -> int:
    if has_request_context():
        values = getattr(g, _G_KEY, None)
        if values is None:
            values = load()
        return values[name]
    # Outside a request (a job, a test body) nothing marks where a unit of work starts: read it each time.
    return read_all()[name]


class DefinitionCache:
    """A per-process LRU of values built from the database, each valid while its revision counter stands.

    Values must be plain data (frozen dataclasses, tuples): they outlive the session that built them.
    """

    def __init__(self, revision: str, maxsize: int = 1024):
        if revision not in NAMES:
            raise ValueError(f"unknown revision {revision!r}")
        self.revision = revision
        self.maxsize = maxsize
        self._data: OrderedDict[Any, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, build: Callable[[], T]) -> T:
        if db.session.info.get(_PENDING):
            # This transaction changed definitions and may still roll back: build, never remember.
            return build()
        revision = current(self.revision)
        with self._lock:
            hit = self._data.get(key)
            if hit is not None and hit[0] == revision:
                self._data.move_to_end(key)
                return hit[1]  # type: ignore[no-any-return]
        value = build()
        with self._lock:
            self._data[key] = (revision, value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value

    def peek(self, key: Any) -> tuple[int, Any] | None:
        """The entry and the revision it was built under, unchecked (the caller checks it later)."""
        with self._lock:
            return self._data.get(key)

    def put(self, key: Any, revision: int, value: Any) -> None:
        with self._lock:
            self._data[key] = (revision, value)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

