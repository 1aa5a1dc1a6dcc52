"""Twenty clerks register at the same moment: numbers 1..20, each once, no gap (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

from sqlalchemy import select

from app.documents import services
from app.documents.models import Document
from app.extensions import db
from tests.integration.documents.conftest import incoming_data

THREADS = 20


def test_twenty_concurrent_registrations_are_unique_and_gap_free(app, office) -> None:
    o = office()
    clerk = o.actors["clerk"]
    barrier = threading.Barrier(THREADS)
    numbers: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def register(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                info = services.register_incoming(o.agency_id, actor=clerk,
                                                  data=incoming_data(number_notation=f"{i + 1}/STC-NS"))
                db.session.commit()
                with lock:
                    numbers.append(info.number)
            except BaseException as exc:  # reported below, with the thread's own error
                db.session.rollback()
                with lock:
                    errors.append(exc)
            finally:
                db.session.remove()

    db.session.commit()  # this thread must not hold SQLite's write lock (BEGIN IMMEDIATE) while they run
    threads = [threading.Thread(target=register, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(numbers) == list(range(1, THREADS + 1))
    stored = db.session.scalars(select(Document.number).where(Document.agency_id == o.agency_id)).all()
    assert sorted(stored) == list(range(1, THREADS + 1))
