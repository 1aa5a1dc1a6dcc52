"""The outbox and the inbox inside one deployment: queued in the deliver step's transaction, sent by the job,
replays acknowledged without a second copy, broken packages answered with a status 02, backoff on no route."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.core import clock
from app.documents import deliveries
from app.documents.models import Document
from app.extensions import db
from app.interchange import OrganInfo, ResponseForInfo, StatusCode, StatusInfo, build_status
from app.jobs import bodies
from app.liaison import services as liaison
from app.liaison.models import InboxMessage, OutboxMessage
from app.web.context import vn_datetime
from app.workflow import services as wf
from tests.integration.documents.test_outgoing import _draft, _task, _to_signature


@pytest.fixture
def queued(app):
    """In-deployment messages wait for the job instead of being handed over at once."""
    app.config["QLVB_EXCHANGE_INLINE"] = False
    yield
    app.config["QLVB_EXCHANGE_INLINE"] = True


def _issue(sender, receiver_code, signing):
    doc = _draft(sender, recipient_agency_codes=[receiver_code])
    _to_signature(sender, doc, signing)
    wf.complete_task(_task(doc.instance_id, "issue").id, sender.actors["clerk"], {})
    db.session.commit()
    return db.session.get(Document, doc.id)


def _copies(document_id: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Document).where(
        Document.exchange_document_id == document_id, Document.direction == "incoming"))


def _outbox(document_id: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.document_id == document_id)
                                   .order_by(OutboxMessage.id)))


def test_the_deliver_step_queues_and_the_job_sends(office, signing, queued) -> None:
    sender, receiver = office(abbreviation="STTTT"), office(abbreviation="STC")
    doc = _issue(sender, receiver.code, signing)
    (row,) = _outbox(doc.exchange_document_id)
    assert (row.kind, row.state, doc.status) == ("package", "pending", "delivered")
    assert _copies(doc.exchange_document_id) == 0 and deliveries.deliveries_of(doc.id)[0].status == "sent"
    assert bodies.send_outbox() == 1
    assert _copies(doc.exchange_document_id) == 1
    assert bodies.send_outbox() == 1  # the copy's "Đã đến" went out through the same outbox
    assert deliveries.deliveries_of(doc.id)[0].status == "arrived"
    assert bodies.send_outbox() == 0

    # A replayed DocumentId is acknowledged and never makes a second copy.
    db.session.refresh(row)
    result = liaison.receive(row.payload, recipient_org=row.recipient_org, via="local")
    db.session.commit()
    assert result.accepted and result.duplicate and _copies(doc.exchange_document_id) == 1
    assert db.session.scalar(select(func.count()).select_from(InboxMessage).where(
        InboxMessage.document_id == doc.exchange_document_id, InboxMessage.kind == "package")) == 1


def test_a_broken_package_is_refused_with_a_status_02_and_nothing_stored(office, signing, queued) -> None:
    sender, receiver = office(abbreviation="STTTT"), office(abbreviation="STC")
    doc = _issue(sender, receiver.code, signing)
    (row,) = _outbox(doc.exchange_document_id)
    date = doc.issue_date.strftime("%Y/%m/%d").encode()
    row.payload = row.payload.replace(b"<edXML:PromulgationDate>" + date, b"<edXML:PromulgationDate>2026/13/45")
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(Document))
    bodies.send_outbox()
    assert db.session.scalar(select(func.count()).select_from(Document)) == before
    db.session.refresh(row)
    assert row.state == "sent"  # delivered to the receiving side, which said no
    (answer,) = [r for r in _outbox(doc.exchange_document_id) if r.kind == "status"]
    assert (answer.code, answer.recipient_org) == ("02", row.sender_org)
    bodies.send_outbox()
    (delivery,) = deliveries.deliveries_of(doc.id)
    assert delivery.status == "returned" and "Gói tin edXML không hợp lệ" in delivery.reason
    assert "PromulgationDate" in delivery.reason


def test_a_wrong_recipient_code_is_refused_with_its_reason(office, signing) -> None:
    sender, receiver = office(abbreviation="STTTT"), office(abbreviation="STC")
    doc = _issue(sender, receiver.code, signing)
    (row,) = [r for r in _outbox(doc.exchange_document_id) if r.kind == "package"]
    result = liaison.receive(row.payload, recipient_org="000.99.99.H61", via="http")
    db.session.commit()
    assert not result.accepted and "000.99.99.H61" in result.message
    answer = db.session.scalar(select(OutboxMessage).where(OutboxMessage.sender_org == "000.99.99.H61"))
    assert answer is not None and (answer.kind, answer.code, answer.recipient_org) == ("status", "02", row.sender_org)


def test_statuses_out_of_order_or_twice_never_go_backwards(office, signing) -> None:
    sender, receiver = office(abbreviation="STTTT"), office(abbreviation="STC")
    doc = _issue(sender, receiver.code, signing)
    (delivery,) = deliveries.deliveries_of(doc.id)
    sender_org = doc.exchange_document_id.split(",")[0]

    def status(code: StatusCode) -> bytes:
        return build_status(StatusInfo(
            response_for=ResponseForInfo(organ_id=sender_org, document_id=doc.exchange_document_id),
            sender=OrganInfo(organ_id=delivery.recipient_org_id), code=code,
            timestamp=dt.datetime(2026, 12, 3, 10, 0, 0)))

    for code in (StatusCode.ASSIGNED, StatusCode.REGISTERED, StatusCode.ASSIGNED, StatusCode.PROCESSING):
        liaison.receive(status(code), recipient_org=sender_org, via="http")
    db.session.commit()
    db.session.refresh(delivery)
    events = [e.status for e in deliveries.events_of([delivery.id])[delivery.id]]
    assert delivery.status == "processing" and events == ["sent", "arrived", "assigned", "processing"]


def test_no_route_keeps_the_message_and_backs_off(app, office, signing, logged_in) -> None:
    sender = office(abbreviation="STTTT")
    app.config["QLVB_AXIS_URL"] = ""
    doc = _issue(sender, "000.55.00.G22", signing)  # a ministry outside the deployment, no axis configured
    (row,) = _outbox(doc.exchange_document_id)
    assert (row.state, row.attempts, row.recipient_org) == ("pending", 0, "000.55.00.G22")
    delays = []
    for _ in range(3):
        row.next_attempt_at = clock.now() - dt.timedelta(seconds=1)
        db.session.commit()
        start = clock.now()
        bodies.send_outbox()
        db.session.refresh(row)
        delays.append((row.next_attempt_at - start).total_seconds())
    assert row.state == "pending" and row.attempts == 3 and "QLVB_AXIS_URL" in row.last_error
    assert 25 <= delays[0] <= 31 and 55 <= delays[1] <= 61 and 115 <= delays[2] <= 121
    (delivery,) = deliveries.deliveries_of(doc.id)
    assert (delivery.status, delivery.recipient_code) == ("sent", "000.55.00.G22")
    # The sender's clerk sees that it has not left yet and when it is tried again, not the technical error.
    page = logged_in(sender.accounts["clerk"]).get(f"/documents/{doc.id}").get_data(as_text=True)
    retry = vn_datetime(row.next_attempt_at)
    assert f"Chưa gửi được tới hệ thống của nơi nhận sau 3 lần thử; hệ thống sẽ tự gửi lại lúc {retry}" in page
    assert "QLVB_AXIS_URL" not in page


def test_the_admin_sees_what_waits_from_the_terminal(app, office, signing) -> None:
    app.config["QLVB_AXIS_URL"] = ""
    doc = _issue(office(abbreviation="STTTT"), "000.56.00.G22", signing)
    runner = app.test_cli_runner()
    shown = runner.invoke(args=["qlvb", "axis", "outbox"])
    assert shown.exit_code == 0 and f"{doc.exchange_document_id} -> 000.56.00.G22" in shown.output
    sent = runner.invoke(args=["qlvb", "axis", "send"])
    assert sent.exit_code == 0 and "Đã gửi 0 thông điệp." in sent.output
    assert "QLVB_AXIS_URL" in runner.invoke(args=["qlvb", "axis", "outbox"]).output
