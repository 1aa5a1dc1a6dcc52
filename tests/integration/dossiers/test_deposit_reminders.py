"""Deposit reminders (issue #6): 30 days before a closed dossier's deposit is due, then once overdue, once each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import current_app
from sqlalchemy import select

from app.core import clock
from app.documents import services as documents
from app.dossiers import services
from app.extensions import db
from app.jobs import bodies
from app.notifications.deposits import send_deposit_reminders
from app.notifications.models import EmailOutbox, Notification
from app.tenancy.models import Staff
from tests.integration.documents.conftest import incoming_data

CLOSED = dt.date(2026, 11, 20)  # deposit due 20/11/2027


def morning(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(8), tzinfo=clock.VN_TZ)


@pytest.fixture
def frozen() -> Iterator[None]:
    clock.freeze(morning(CLOSED))
    yield
    clock.freeze(None)


@contextmanager
def smtp_configured() -> Iterator[None]:
    """Outbox rows are written once SMTP is configured; nothing is sent without the delivery job."""
    saved = current_app.config.get("QLVB_SMTP_HOST")
    current_app.config["QLVB_SMTP_HOST"] = "127.0.0.1"
    try:
        yield
    finally:
        current_app.config["QLVB_SMTP_HOST"] = saved


def closed_dossier(o, title: str, *, closed_on: dt.date = CLOSED) -> int:
    """A dossier the specialist keeps (the clerk files and closes it), closed on ``closed_on`` (clock at that day)."""
    clerk = o.actors["clerk"]
    clock.freeze(morning(closed_on))
    doc = documents.register_incoming(o.agency_id, actor=clerk, data=incoming_data(
        summary=f"Văn bản của {title}", issue_date=closed_on - dt.timedelta(days=3)))
    d = services.create_dossier(clerk, title=title, retention="10", year=closed_on.year,
                                opened_on=closed_on - dt.timedelta(days=1),
                                responsible_staff_id=o.accounts["specialist"].staff_id)
    services.file_document(clerk, d.id, doc.id)
    services.close_dossier(clerk, d.id, closed_on=closed_on)
    db.session.commit()
    return d.id


def reminders(user_id: int, dossier_id: int) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(
        Notification.user_id == user_id, Notification.link == f"/dossiers/{dossier_id}").order_by(Notification.id)))


def run_job(day: dt.date) -> int:
    """The job body exactly as Celery and the embedded scheduler run it (one commit), on ``day``."""
    clock.freeze(morning(day))
    db.session.commit()  # SQLite: hold no transaction while the job writes
    made = bodies.send_deposit_reminders()
    db.session.expire_all()
    return made


def test_reminded_thirty_days_before_then_once_overdue_never_twice(office, frozen):
    o = office()
    specialist = o.accounts["specialist"].user_id
    dossier_id = closed_dossier(o, "Hồ sơ chuyển đổi số năm 2026")

    run_job(dt.date(2027, 10, 20))  # 31 days before: not yet
    assert reminders(specialist, dossier_id) == []

    with smtp_configured():
        assert run_job(dt.date(2027, 10, 21)) >= 1  # 30 days before
    [soon] = reminders(specialist, dossier_id)
    assert soon.kind == "due_soon" and soon.agency_id == o.agency_id
    assert soon.title.startswith("Sắp đến hạn nộp lưu hồ sơ: ") and "Hồ sơ chuyển đổi số năm 2026" in soon.title
    assert "trước ngày 20/11/2027 (còn 30 ngày)" in soon.body
    email = db.session.scalar(select(Staff.email).where(Staff.user_id == specialist))
    mails = list(db.session.scalars(select(EmailOutbox).where(EmailOutbox.to_addr == email)))
    assert [m.subject for m in mails] == [soon.title]

    assert run_job(dt.date(2027, 10, 21)) == 0  # the same day again: nothing is due any more
    run_job(dt.date(2027, 11, 5))
    run_job(dt.date(2027, 11, 20))  # the due date itself is not overdue yet
    assert len(reminders(specialist, dossier_id)) == 1

    run_job(dt.date(2027, 11, 21))
    run_job(dt.date(2027, 11, 22))
    run_job(dt.date(2028, 3, 1))
    soon_again, late = reminders(specialist, dossier_id)
    assert soon_again.id == soon.id
    assert late.kind == "overdue" and late.title.startswith("Quá hạn nộp lưu hồ sơ: ")
    assert "đã quá hạn 1 ngày" in late.body


def test_one_agency_is_not_told_about_another_agencys_dossiers(office, frozen):
    first, second = office(), office()
    mine = closed_dossier(first, "Hồ sơ của cơ quan thứ nhất")
    theirs = closed_dossier(second, "Hồ sơ của cơ quan thứ hai", closed_on=CLOSED + dt.timedelta(days=10))

    run_job(dt.date(2027, 10, 25))  # within 30 days of the first deposit only
    assert len(reminders(first.accounts["specialist"].user_id, mine)) == 1
    assert reminders(second.accounts["specialist"].user_id, theirs) == []

    run_job(dt.date(2027, 11, 1))
    [own] = reminders(second.accounts["specialist"].user_id, theirs)
    assert own.agency_id == second.agency_id and "cơ quan thứ hai" in own.title
    for o, other in ((first, theirs), (second, mine)):
        people = [a.user_id for a in o.accounts.values()]
        assert db.session.scalars(select(Notification).where(
            Notification.user_id.in_(people), Notification.link == f"/dossiers/{other}")).all() == []
    assert len(reminders(first.accounts["specialist"].user_id, mine)) == 1


def test_clerks_are_told_when_the_responsible_person_has_left(office, frozen):
    first, second = office(), office()
    dossier_id = closed_dossier(first, "Hồ sơ của người đã nghỉ")
    staff = db.session.scalar(select(Staff).where(Staff.user_id == first.accounts["specialist"].user_id))
    staff.active = False
    db.session.commit()

    send_deposit_reminders(dt.date(2027, 11, 1))
    db.session.commit()
    assert reminders(first.accounts["specialist"].user_id, dossier_id) == []
    assert len(reminders(first.accounts["clerk"].user_id, dossier_id)) == 1
    assert reminders(second.accounts["clerk"].user_id, dossier_id) == []


def test_deposited_dossiers_are_left_alone_and_reopening_starts_again(office, frozen):
    o = office()
    specialist = o.accounts["specialist"].user_id
    deposited = closed_dossier(o, "Hồ sơ đã nộp lưu")
    clock.freeze(morning(dt.date(2027, 6, 1)))
    services.record_deposit(o.actors["clerk"], deposited)
    reopened = closed_dossier(o, "Hồ sơ mở lại")
    db.session.commit()

    run_job(dt.date(2027, 11, 1))
    assert reminders(specialist, deposited) == []
    assert len(reminders(specialist, reopened)) == 1

    clock.freeze(morning(dt.date(2027, 11, 2)))
    services.reopen_dossier(o.actors["clerk"], reopened)
    services.close_dossier(o.actors["clerk"], reopened, closed_on=dt.date(2027, 11, 2))
    db.session.commit()
    run_job(dt.date(2027, 11, 3))
    assert len(reminders(specialist, reopened)) == 1  # the new deposit date is a year away
    run_job(dt.date(2028, 10, 3))
    old, new = reminders(specialist, reopened)
    assert "trước ngày 20/11/2027" in old.body and "trước ngày 02/11/2028 (còn 30 ngày)" in new.body
