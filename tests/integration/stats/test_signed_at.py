"""Document.signed_at, what "signed" counts: set by the first signed file however it is attached, and backfilled."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
from pathlib import Path

from sqlalchemy import select, text, update

from app.core import clock
from app.documents import services as documents
from app.documents.models import Attachment, Document
from app.documents.storage import default_storage
from app.extensions import db
from app.stats.periods import Period
from app.stats.queries import agency_stats

MIGRATION = Path(__file__).resolve().parents[3] / "app/migrations/versions/20261127_1100_document_signed_at.py"


def _file(kind: str, at: dt.datetime | None = None) -> Attachment:
    blob = f"%PDF-1.7 {kind}".encode()  # stored: the storage sweep test checks every row names a blob
    return Attachment(filename=f"{kind}.pdf", content_type="application/pdf", size=len(blob),
                      sha256=hashlib.sha256(blob).hexdigest(), storage_key=default_storage().put(blob), kind=kind,
                      created_at=at)


def _drafts(o, n: int) -> list[Document]:
    infos = [documents.create_outgoing_draft(o.agency_id, actor=o.actors["specialist"],
                                             data={"doc_type": "cong_van", "summary": f"Dự thảo {i}"})
             for i in range(n)]
    return [db.session.get(Document, i.id) for i in infos]


def test_the_first_signed_file_marks_the_document_whichever_way_it_is_attached(office):
    o = office()
    first_at = dt.datetime(2026, 3, 10, 8, tzinfo=dt.UTC)
    appended, by_backref, unsigned = _drafts(o, 3)
    appended.attachments.append(_file("rendered", first_at - dt.timedelta(hours=1)))
    assert appended.signed_at is None
    appended.attachments.append(_file("signed", first_at))
    appended.attachments.append(_file("signed", first_at + dt.timedelta(hours=1)))  # the agency's signature on top
    from_the_file_side = _file("signed", first_at)
    db.session.add(from_the_file_side)
    from_the_file_side.document = by_backref
    unsigned.attachments.append(_file("original"))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Document, appended.id).signed_at == first_at
    assert db.session.get(Document, by_backref.id).signed_at == first_at
    assert db.session.get(Document, unsigned.id).signed_at is None


def test_the_migration_backfills_from_the_attachments_and_stats_agree(office):
    o = office()
    at = dt.datetime(2026, 3, 10, 8, tzinfo=dt.UTC)
    clock.freeze(at)
    try:
        twice, once, none = _drafts(o, 3)
        for doc in (twice, once, none):
            doc.status = "approved"  # numbering follows approval (documents/chain.py)
            documents.issue_outgoing(doc.id, issue_date=dt.date(2026, 3, 10))
            doc.status, doc.issued_at = "issued", clock.now()  # what the clerk's issue step records
        db.session.flush()
        ids = [twice.id, once.id, none.id]
        # Files written behind the ORM's back, as they were before signed_at existed.
        for doc_id, when in ((twice.id, at + dt.timedelta(hours=2)), (twice.id, at + dt.timedelta(hours=1)),
                             (once.id, at)):
            db.session.execute(text(
                "INSERT INTO attachment (document_id, filename, content_type, size, sha256, storage_key, kind, "
                "created_at) VALUES (:d, 'ky.pdf', 'application/pdf', 10, :h, 'test/none', 'signed', :at)"),
                {"d": doc_id, "h": "0" * 64, "at": when})
        db.session.execute(text("INSERT INTO attachment (document_id, filename, content_type, size, sha256, "
                                "storage_key, kind, created_at) VALUES (:d, 'x.pdf', 'application/pdf', 10, :h, "
                                "'test/none', 'rendered', :at)"), {"d": none.id, "h": "0" * 64, "at": at})
        db.session.execute(update(Document).where(Document.id.in_(ids)).values(signed_at=None))

        spec = importlib.util.spec_from_file_location("signed_at_migration", MIGRATION)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        dialect = db.session.get_bind().dialect.name
        db.session.execute(text(migration.BACKFILL_PG if dialect == "postgresql" else migration.BACKFILL_PORTABLE))
        db.session.expire_all()
        got = dict(db.session.execute(select(Document.id, Document.signed_at).where(Document.id.in_(ids))).all())
        aware = {k: v.replace(tzinfo=dt.UTC) if v is not None and v.tzinfo is None else v for k, v in got.items()}
        assert aware == {twice.id: at + dt.timedelta(hours=1), once.id: at, none.id: None}
        row = agency_stats(o.agency_id, Period("month", 2026, 3)).agency
        assert (row.outgoing_issued, row.outgoing_signed) == (3, 2)
    finally:
        clock.freeze(None)
        db.session.rollback()
