"""E-mail leaves through the outbox to a real SMTP server the test starts (aiosmtpd on a free loopback port)."""

from __future__ import annotations

import datetime as dt
import socket
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import current_app
from sqlalchemy import select

from app.core import clock
from app.extensions import db
from app.jobs import bodies
from app.notifications import mail, services
from app.notifications.models import EmailOutbox


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_config(port: int) -> Iterator[None]:
    saved = {k: current_app.config.get(k) for k in ("QLVB_SMTP_HOST", "QLVB_SMTP_PORT", "QLVB_MAIL_FROM")}
    current_app.config.update(QLVB_SMTP_HOST="127.0.0.1", QLVB_SMTP_PORT=port, QLVB_MAIL_FROM="qlvb@stn.test.vn")
    try:
        yield
    finally:
        current_app.config.update(saved)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _drain() -> int:
    """Run the mail job until nothing is left (a run takes one batch; other tests may have queued mail)."""
    sent = total = bodies.deliver_email()
    while sent:
        sent = bodies.deliver_email()
        total += sent
    return total


def _outbox_for(address: str) -> list[EmailOutbox]:
    return list(db.session.scalars(select(EmailOutbox).where(EmailOutbox.to_addr == address)))


def test_notification_mail_is_sent_once_with_vietnamese_text(office: Any, smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    person = office["spec_a"]
    with smtp_config(port):
        services.notify([person.user_id], agency_id=office.agency.id, kind="due_soon",
                        title="Sắp đến hạn: Xử lý văn bản", body="Văn bản đến số 12/UBND: Về việc báo cáo quý",
                        link="/tasks/1", urgent=True)
        db.session.commit()  # the outbox row is written with the notification, in the same transaction
        (row,) = _outbox_for(person.account.email)
        assert row.status == "pending"
        assert _drain() >= 1
        assert bodies.deliver_email() == 0  # nothing left: never sent twice
    db.session.refresh(row)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    mine = [(to, m) for to, m in inbox.messages if person.account.email in to]
    assert len(mine) == 1
    message = mine[0][1]
    assert message["Subject"] == "[KHẨN] Sắp đến hạn: Xử lý văn bản"
    assert message["To"] == person.account.email and message["From"] == "qlvb@stn.test.vn"
    assert message["Message-ID"] == row.message_id and message["X-Priority"] == "1"
    body = message.get_content()
    assert "Văn bản đến số 12/UBND: Về việc báo cáo quý" in body
    assert f"https://{office.agency.domain}/tasks/1" in body
    assert unicodedata.is_normalized("NFC", body) and unicodedata.is_normalized("NFC", message["Subject"])


def test_unreachable_server_is_retried_with_backoff_then_delivered(office: Any,
                                                                     smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    person = office["spec_b"]
    with smtp_config(_free_port()):  # nobody listens there
        services.notify([person.user_id], agency_id=office.agency.id, kind="overdue", title="Quá hạn: Báo cáo")
        db.session.commit()
        (row,) = _outbox_for(person.account.email)
        before = clock.now()
        assert mail.deliver_one(row.id) == "retry"
        db.session.commit()
        db.session.refresh(row)
        assert row.status == "pending" and row.attempts == 1 and "ConnectionRefusedError" in (row.last_error or "")
        assert row.next_attempt_at >= before + dt.timedelta(seconds=59)
        assert mail.deliver_one(row.id) == "skipped"  # not before its time
    with smtp_config(port):
        assert mail.deliver_one(row.id, now=row.next_attempt_at + dt.timedelta(seconds=1)) == "sent"
        db.session.commit()
    assert [m["Subject"] for to, m in inbox.messages if person.account.email in to] == ["Quá hạn: Báo cáo"]


def test_the_writing_node_queues_whatever_its_smtp_settings(office: Any) -> None:
    """No SMTP on the node that wrote the event: the message is queued all the same."""
    person = office["head_vp"]
    saved = current_app.config.get("QLVB_SMTP_HOST")
    current_app.config["QLVB_SMTP_HOST"] = ""
    try:
        services.notify([person.user_id], agency_id=office.agency.id, kind="calendar", title="Lịch mới")
        db.session.commit()
    finally:
        current_app.config["QLVB_SMTP_HOST"] = saved
    (row,) = _outbox_for(person.account.email)
    assert row.status == "pending" and row.subject == "Lịch mới"


def test_a_worker_without_smtp_leaves_mail_queued_and_logs(office: Any, smtp_server: tuple[Inbox, int],
                                                          caplog: pytest.LogCaptureFixture) -> None:
    inbox, port = smtp_server
    person = office["head_nv"]
    services.notify([person.user_id], agency_id=office.agency.id, kind="calendar", title="Lịch họp giao ban")
    db.session.commit()
    saved = current_app.config.get("QLVB_SMTP_HOST")
    current_app.config["QLVB_SMTP_HOST"] = ""
    mail._last_unconfigured_log.clear()
    try:
        with caplog.at_level("WARNING", logger="qlvb.mail"):
            assert bodies.deliver_email() == 0
    finally:
        current_app.config["QLVB_SMTP_HOST"] = saved
    (row,) = _outbox_for(person.account.email)
    db.session.refresh(row)
    assert row.status == "pending" and row.attempts == 0
    assert any("QLVB_SMTP_HOST is not configured" in r.getMessage() for r in caplog.records)
    with smtp_config(port):  # a worker that has SMTP sends it
        assert _drain() >= 1
    db.session.refresh(row)
    assert row.status == "sent"
    assert [m["Subject"] for to, m in inbox.messages if person.account.email in to] == ["Lịch họp giao ban"]


def test_mail_switched_off_for_the_province_cancels_queued_messages(office: Any,
                                                                   smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    person = office["clerk"]
    services.notify([person.user_id], agency_id=office.agency.id, kind="calendar", title="Lịch tuần")
    db.session.commit()
    with smtp_config(port):
        current_app.config["QLVB_MAIL_ENABLED"] = False
        try:
            bodies.deliver_email()
        finally:
            current_app.config["QLVB_MAIL_ENABLED"] = True
        (row,) = _outbox_for(person.account.email)
        db.session.refresh(row)
        assert row.status == "cancelled" and "QLVB_MAIL_ENABLED=0" in (row.last_error or "")
        bodies.deliver_email()  # switched on again: a cancelled message is never sent late
    db.session.refresh(row)
    assert row.status == "cancelled"
    assert not [m for to, m in inbox.messages if person.account.email in to]
