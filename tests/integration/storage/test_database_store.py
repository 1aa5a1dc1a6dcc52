"""The database store writes in the transaction of the row that names the blob: no orphan, no row without bytes."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.core import clock
from app.documents import services
from app.documents.attachments import UploadInfo
from app.documents.models import Attachment, Blob, BlobChunk
from app.documents.storage import CHUNK, DatabaseStorage, digest_of, key_for
from app.extensions import db
from tests.integration.documents.conftest import incoming_data, office  # noqa: F401  (fixture)
from tests.support.db import is_postgres


def _blob_rows(digest: str) -> tuple[int, int]:
    blobs = db.session.scalar(select(func.count()).select_from(Blob).where(Blob.sha256 == digest))
    chunks = db.session.scalar(select(func.count()).select_from(BlobChunk).where(BlobChunk.sha256 == digest))
    return int(blobs or 0), int(chunks or 0)


def test_a_rolled_back_registration_leaves_no_blob_and_a_committed_one_both(office, use_storage) -> None:  # noqa: F811
    use_storage("database")
    o = office(keys=False)
    data = ("Công văn số 15 về việc lưu trữ hồ sơ điện tử.\n" * 60_000).encode()  # ~3 MiB: several chunks
    services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(),
                               files=[UploadInfo("cong-van.txt", data)])
    (att,) = db.session.scalars(select(Attachment).where(Attachment.filename == "cong-van.txt",
                                                         Attachment.size == len(data))).all()
    digest = digest_of(att.storage_key)
    assert _blob_rows(digest) == (1, (len(data) + CHUNK - 1) // CHUNK)  # written with the row, not yet committed
    db.session.rollback()  # the request failed after the file was stored
    assert _blob_rows(digest) == (0, 0)
    assert db.session.scalar(select(func.count()).select_from(Attachment).where(Attachment.sha256 == digest)) == 0

    info = services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(),
                                      files=[UploadInfo("cong-van.txt", data)])
    db.session.commit()
    assert _blob_rows(digest)[0] == 1
    assert info.attachments[0].sha256 == digest
    assert DatabaseStorage(db.session).get(key_for(digest)) == data


def test_reusing_stored_content_in_a_failed_transaction_keeps_the_blob(app) -> None:
    store = DatabaseStorage(db.session)
    data = os.urandom(3000)
    key = store.put(data)
    db.session.commit()
    old = clock.now() - dt.timedelta(days=3)
    db.session.execute(update(Blob).where(Blob.sha256 == digest_of(key)).values(touched_at=old))
    db.session.commit()
    assert store.put(data) == key and store.age_seconds(key) < 60  # touched
    db.session.rollback()
    assert store.get(key) == data and store.age_seconds(key) > 2 * 86400  # the touch went with the transaction


@pytest.mark.skipif(not is_postgres(), reason="row locks between two sessions: PostgreSQL")
def test_a_sweep_cannot_remove_a_blob_that_an_open_transaction_is_reusing(app) -> None:
    """A swept-looking blob reused by a transaction still open: the sweep's DELETE waits for it, then keeps it."""
    store = DatabaseStorage(db.session)
    data = os.urandom(5000)
    key = store.put(data)
    db.session.execute(update(Blob).where(Blob.sha256 == digest_of(key))
                       .values(touched_at=clock.now() - dt.timedelta(days=3)))
    db.session.commit()
    assert store.put(data) == key  # a new row will name it; this transaction stays open
    with Session(db.engine) as sweeper:
        sweeper.execute(text("SET lock_timeout = '300ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            DatabaseStorage(sweeper).delete_if_stale(key, 86400)
        sweeper.rollback()
        db.session.commit()  # the reusing transaction commits
        assert DatabaseStorage(sweeper).delete_if_stale(key, 86400) is False
        sweeper.commit()
    assert store.get(key) == data
