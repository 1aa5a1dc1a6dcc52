"""The database store (``QLVB_STORAGE=database``): ``blob`` rows and their 1 MiB ``blob_chunk`` rows.

Writes go through the caller's session, in the transaction of the row that names the blob: both commit or neither
does. Content already stored is "touched" (``UPDATE blob SET touched_at``): on PostgreSQL that row lock makes a
concurrent sweep wait for this transaction and then see the new ``touched_at``, so the sweep never deletes a blob
that a row is about to name. Two transactions writing the same new content meet on the primary key
(``INSERT … ON CONFLICT DO NOTHING``): the second waits for the first, then only touches.

Streamed reads (downloads) fetch each chunk on a short connection of their own, so a slow client holds no
transaction open; a chunk not visible there (written by the caller's own transaction, not committed yet) is read
through the session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from app.core import clock
from app.documents.models import Blob, BlobChunk

from . import CHUNK, BlobStream, StorageUnavailableError, digest_of, key_for, missing, read_pieces, spool

BLOB = Blob.__table__
CHUNKS = BlobChunk.__table__
_PAGE = 1000
_READ_BATCH = 4  # chunks fetched per connection: 4 MiB in memory at most, one round trip instead of four


class DatabaseStorage:
    kind = "database"

    def __init__(self, session: Any, *, chunk_size: int = CHUNK):
        self.session = session  # a Session or Flask-SQLAlchemy's scoped db.session
        self.chunk_size = chunk_size

    def describe(self) -> str:
        return "cơ sở dữ liệu (bảng blob)"

    # -- writing ---------------------------------------------------------------------------------------------------

    def _dialect(self) -> str:
        return str(self.session.get_bind().dialect.name)

    def _touch(self, digest: str) -> bool:
        result = self.session.execute(update(BLOB).where(BLOB.c.sha256 == digest).values(touched_at=clock.now()))
        return bool(result.rowcount)

    def _store(self, digest: str, size: int, pieces: Callable[[], Iterator[bytes]]) -> str:
        key = key_for(digest)
        if self._touch(digest):
            return key
        dialect = self._dialect()
        if dialect == "postgresql":
            insert: Any = pg_insert(BLOB)
        elif dialect == "sqlite":
            insert = sqlite_insert(BLOB)
        else:
            raise StorageUnavailableError(f"Kho lưu trữ trong cơ sở dữ liệu chưa hỗ trợ {dialect}.")
        now = clock.now()
        created = self.session.execute(insert.values(sha256=digest, size=size, chunk_size=self.chunk_size,
                                                     created_at=now, touched_at=now)
                                       .on_conflict_do_nothing(index_elements=["sha256"]))
        if not created.rowcount:  # another transaction stored the same content and committed while we waited
            self._touch(digest)
            return key
        if dialect == "postgresql":
            # Binary parameters (%b): the bytes go as they are, not as hex text twice their size.
            raw = self.session.connection().connection.dbapi_connection
            with raw.cursor() as cur:
                for seq, piece in enumerate(pieces()):
                    cur.execute("INSERT INTO blob_chunk (sha256, seq, data) VALUES (%s, %s, %b)", (digest, seq, piece))
        else:
            for seq, piece in enumerate(pieces()):
                self.session.execute(CHUNKS.insert().values(sha256=digest, seq=seq, data=bytes(piece)))
        return key

    def put(self, data: bytes) -> str:
        view = memoryview(data)
        step = self.chunk_size
        return self._store(hashlib.sha256(data).hexdigest(), len(data),
                           lambda: (bytes(view[i:i + step]) for i in range(0, len(data), step)))

    def put_stream(self, chunks: Iterable[bytes], *, sha256: str | None = None) -> str:
        spooled, digest, size = spool(chunks, sha256=sha256)
        with spooled:
            return self._store(digest, size, lambda: read_pieces(spooled, self.chunk_size))

    # -- reading ---------------------------------------------------------------------------------------------------

    def _meta(self, key: str) -> tuple[int, int]:
        row = self.session.execute(select(BLOB.c.size, BLOB.c.chunk_size)
                                   .where(BLOB.c.sha256 == digest_of(key))).first()
        if row is None:
            raise missing(key, "in table blob")
        return int(row.size), int(row.chunk_size)

    def get(self, key: str) -> bytes:
        size, _ = self._meta(key)
        data = b"".join(self.session.execute(select(CHUNKS.c.data).where(CHUNKS.c.sha256 == digest_of(key))
                                             .order_by(CHUNKS.c.seq)).scalars())
        if len(data) != size:
            raise missing(key, f"in table blob_chunk ({len(data)} of {size} bytes)")
        return data

    def _engine(self) -> Engine:
        bind = self.session.get_bind()
        return bind.engine if isinstance(bind, Connection) else bind

    def _committed_chunks(self, digest: str, first: int, last: int) -> dict[int, bytes]:
        """Chunks ``first``..``last`` as committed, on a short connection of their own."""
        with self._engine().connect() as conn:
            if conn.dialect.name == "postgresql":
                with conn.connection.dbapi_connection.cursor(binary=True) as cur:  # bytea as bytes, not hex text
                    cur.execute("SELECT seq, data FROM blob_chunk WHERE sha256 = %s AND seq BETWEEN %s AND %s",
                                (digest, first, last))
                    return {int(seq): bytes(data) for seq, data in cur.fetchall()}
            rows = conn.execute(select(CHUNKS.c.seq, CHUNKS.c.data)
                                .where(CHUNKS.c.sha256 == digest, CHUNKS.c.seq.between(first, last)))
            return {int(seq): bytes(data) for seq, data in rows}

    def _own_chunk(self, key: str, seq: int) -> bytes:
        """A chunk written by the caller's own transaction, not committed yet."""
        data = self.session.execute(select(CHUNKS.c.data).where(CHUNKS.c.sha256 == digest_of(key),
                                                                 CHUNKS.c.seq == seq)).scalar()
        if data is None:
            raise missing(key, f"(chunk {seq} absent from table blob_chunk)")
        return bytes(data)

    def open(self, key: str) -> BlobStream:
        size, step = self._meta(key)
        digest = digest_of(key)

        def reader(start: int, stop: int) -> Iterator[bytes]:
            last_seq = (stop - 1) // step
            for batch in range(start // step, last_seq + 1, _READ_BATCH):
                got = self._committed_chunks(digest, batch, min(batch + _READ_BATCH - 1, last_seq))
                for seq in range(batch, min(batch + _READ_BATCH - 1, last_seq) + 1):
                    data = got.pop(seq, None)
                    if data is None:
                        data = self._own_chunk(key, seq)
                    lo = max(start - seq * step, 0)
                    hi = min(stop - seq * step, len(data))
                    if lo < hi:
                        yield data[lo:hi]

        return BlobStream(key, size, reader)

    def exists(self, key: str) -> bool:
        return self.session.execute(select(BLOB.c.sha256).where(BLOB.c.sha256 == digest_of(key))).first() is not None

    def age_seconds(self, key: str) -> float:
        touched = self.session.execute(select(BLOB.c.touched_at).where(BLOB.c.sha256 == digest_of(key))).scalar()
        if touched is None:
            raise missing(key, "in table blob")
        return (clock.now() - touched).total_seconds()

    def list_keys(self) -> Iterator[str]:
        """Every stored key, in order, a page at a time on short connections (the caller may commit between)."""
        last = ""
        while True:
            with self._engine().connect() as conn:
                page = list(conn.execute(select(BLOB.c.sha256).where(BLOB.c.sha256 > last)
                                         .order_by(BLOB.c.sha256).limit(_PAGE)).scalars())
            yield from (key_for(d) for d in page)
            if len(page) < _PAGE:
                return
            last = page[-1]

    def count(self) -> tuple[int, int]:
        row = self.session.execute(select(func.count(), func.coalesce(func.sum(BLOB.c.size), 0))).one()
        return int(row[0]), int(row[1])

    # -- removing (the caller commits) -----------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        digest = digest_of(key)
        self.session.execute(delete(CHUNKS).where(CHUNKS.c.sha256 == digest))
        self.session.execute(delete(BLOB).where(BLOB.c.sha256 == digest))

    def delete_if_stale(self, key: str, min_age_seconds: float) -> bool:
        """Delete only if still untouched for ``min_age_seconds``, decided by the DELETE itself (no race)."""
        digest = digest_of(key)
        cutoff = clock.now() - dt.timedelta(seconds=min_age_seconds)
        gone = self.session.execute(delete(BLOB).where(BLOB.c.sha256 == digest, BLOB.c.touched_at <= cutoff))
        if not gone.rowcount:
            return False
        # ON DELETE CASCADE removed the chunks where foreign keys are enforced; make sure where they are not.
        self.session.execute(delete(CHUNKS).where(CHUNKS.c.sha256 == digest))
        return True
