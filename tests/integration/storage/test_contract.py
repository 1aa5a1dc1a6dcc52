"""The same contract for every store: content-addressed keys, streamed ranges, checksums, missing blobs, sweeping."""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import pytest

from app.core import clock
from app.core.errors import NotFoundError
from app.documents.storage import (
    CHUNK,
    BlobChecksumError,
    BlobMissingError,
    key_for,
    remove_unreferenced,
)
from app.extensions import db

SIZE = 2 * CHUNK + CHUNK // 2  # three chunks, the last one half full


@pytest.fixture
def blob() -> bytes:
    return os.urandom(SIZE)


def test_put_get_and_the_same_content_is_one_key(store, blob) -> None:
    key = store.put(blob)
    db.session.commit()
    assert key == key_for(hashlib.sha256(blob).hexdigest())
    assert store.exists(key) and store.get(key) == blob
    assert store.put(blob) == key  # idempotent: stored once
    db.session.commit()
    assert store.get(key) == blob
    assert key in set(store.list_keys())


def test_an_empty_file_is_a_blob_too(store) -> None:
    key = store.put(b"")
    db.session.commit()
    stream = store.open(key)
    assert (stream.size, stream.read(), store.get(key)) == (0, b"", b"")


@pytest.mark.parametrize(("start", "stop"), [
    (0, None), (0, 1), (CHUNK - 1, CHUNK + 1), (CHUNK, 2 * CHUNK), (SIZE - 10, SIZE), (5, None), (SIZE - 1, None),
    (100, SIZE + 5000),
])
def test_streamed_ranges_return_exactly_those_bytes_in_bounded_pieces(store, blob, start, stop) -> None:
    key = store.put(blob)
    db.session.commit()
    stream = store.open(key)
    assert stream.size == SIZE and stream.sha256 == hashlib.sha256(blob).hexdigest()
    pieces = list(stream.chunks(start, stop))
    assert b"".join(pieces) == blob[start:stop]
    assert all(len(p) <= CHUNK for p in pieces)


def test_a_blob_is_readable_in_the_transaction_that_wrote_it(store, blob) -> None:
    """Signing reads the PDF it stored moments before, before anything commits."""
    key = store.put(blob)
    assert store.get(key) == blob
    assert store.open(key).read() == blob
    db.session.commit()


def test_put_stream_checks_the_expected_checksum_and_stores_nothing_when_it_differs(store, blob) -> None:
    digest = hashlib.sha256(blob).hexdigest()
    pieces = [blob[:7], blob[7:CHUNK + 3], blob[CHUNK + 3:]]
    key = store.put_stream(iter(pieces), sha256=digest)
    db.session.commit()
    assert key == key_for(digest) and store.get(key) == blob
    other = os.urandom(1000)
    with pytest.raises(BlobChecksumError, match="không khớp mã SHA-256"):
        store.put_stream([other], sha256="0" * 64)
    db.session.commit()
    assert not store.exists(key_for(hashlib.sha256(other).hexdigest()))
    assert not store.exists(key_for("0" * 64))


def test_missing_blobs_are_a_typed_error_and_malformed_keys_never_name_a_path(store) -> None:
    absent = key_for(hashlib.sha256(os.urandom(16)).hexdigest())
    assert not store.exists(absent)
    for call in (store.get, store.open):
        with pytest.raises(BlobMissingError) as info:
            call(absent)
        assert absent in info.value.log and "kho lưu trữ" in info.value.message
    for bad in ("../../etc/passwd", "sha256/ab/../../x", "sha256/00/" + "0" * 63):
        with pytest.raises(NotFoundError):
            store.get(bad)


def test_delete_and_the_grace_period_of_the_sweep(store, blob) -> None:
    kept, orphan, reused = store.put(blob), store.put(os.urandom(100)), store.put(os.urandom(200))
    db.session.commit()
    mine = {kept, orphan, reused}
    # Young blobs stay: a row naming them may be in a transaction that has not committed yet.
    assert not any(store.delete_if_stale(k, 3600) for k in mine)
    later = clock.now() + dt.timedelta(hours=2)
    try:
        clock.freeze(later)
        assert store.age_seconds(orphan) >= 7000
        store.put(store.get(reused))  # written again two hours later: touched, young again
        db.session.commit()
        assert store.age_seconds(reused) < 60
        swept = remove_unreferenced(_only(store, mine), {kept}, min_age_seconds=3600)
        db.session.commit()
    finally:
        clock.freeze(None)
    assert swept == 1
    assert store.exists(kept) and store.exists(reused) and not store.exists(orphan)
    store.delete(reused)
    store.delete(reused)  # deleting what is gone is no error
    db.session.commit()
    assert not store.exists(reused)


class _only:
    """The store seen through the keys of this test (the database store is shared by the whole session)."""

    def __init__(self, store, keys):
        self._store, self._keys = store, keys

    def list_keys(self):
        return (k for k in self._store.list_keys() if k in self._keys)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_every_table_that_names_a_blob_is_known_to_check_migrate_sweep_and_backup(app) -> None:
    """A new table with a ``storage_key`` column must be added to app.ops.storage.REFERENCING, or its files
    would be missed by backups and removed by the sweep."""
    from app.ops.storage import REFERENCING

    naming = {t.name for t in db.metadata.tables.values() if "storage_key" in t.columns}
    assert naming == {m.__tablename__ for m in REFERENCING}
    assert naming >= {"attachment", "work_file", "opinion_file", "exchange_file"}
