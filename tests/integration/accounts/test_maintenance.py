"""Maintenance windows (Art 10.1): refused inside 3 days, banner until the end, one e-mail per official."""

import datetime as dt
import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.accounts import maintenance
from app.accounts.errors import MaintenanceTooSoonError
from app.accounts.models import MaintenanceWindow
from app.core import clock
from app.extensions import db
from app.tenancy.models import Staff


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"


@pytest.fixture
def smtp_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_less_than_three_days_ahead_is_refused_citing_article_10(soict, logged_in):
    c = logged_in(soict)
    start = (clock.local_now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    end = (clock.local_now() + dt.timedelta(days=2, hours=3)).strftime("%Y-%m-%dT%H:%M")
    body = c.form_post("/maintenance/", {"title": "Nâng cấp máy chủ", "starts_at": start, "ends_at": end}
                       ).get_data(as_text=True)
    assert "khoản 1 Điều 10" in body and "ít nhất 3 ngày" in body
    assert db.session.scalar(select(MaintenanceWindow).where(MaintenanceWindow.title == "Nâng cấp máy chủ")) is None


def test_banner_from_scheduling_until_the_end_and_one_mail_per_official(make_agency, make_account, logged_in,
                                                                       smtp_server, frozen_clock):
    inbox, port = smtp_server
    a = make_agency()
    clerk = make_account(a.code, ["clerk"])
    now = clock.now()
    start, end = now + dt.timedelta(days=3, hours=1), now + dt.timedelta(days=3, hours=5)
    with pytest.raises(MaintenanceTooSoonError):
        maintenance.schedule_maintenance(starts_at=now + dt.timedelta(days=2, hours=23), ends_at=end,
                                         title="Quá sát", by_user_id=None)
    info = maintenance.schedule_maintenance(starts_at=start, ends_at=end, title="Bảo trì cơ sở dữ liệu",
                                            message="Sao lưu toàn bộ dữ liệu.", by_user_id=None)
    db.session.commit()
    page = logged_in(clerk).get("/account/password").get_data(as_text=True)
    assert "Thông báo bảo trì:" in page and "Bảo trì cơ sở dữ liệu" in page
    settings = maintenance.SmtpSettings("127.0.0.1", port, "qlvb@vinhphuc.gov.vn")
    sent = maintenance.send_maintenance_notices(clock.now(), settings)
    db.session.commit()
    active = db.session.scalar(select(db.func.count(db.distinct(Staff.email))).where(Staff.active.is_(True)))
    assert sent == len(inbox.messages) and sent >= active - 1
    to_clerk = [m for rcpt, m in inbox.messages if clerk.email in rcpt]
    assert len(to_clerk) == 1
    assert "Thông báo bảo trì" in to_clerk[0]["Subject"]
    text = to_clerk[0].get_content()
    assert "Sao lưu toàn bộ dữ liệu." in text
    # Once per window.
    assert maintenance.send_maintenance_notices(clock.now(), settings) == 0
    # After the window the banner is gone.
    frozen_clock(end + dt.timedelta(minutes=1))
    assert info.id not in [w.id for w in maintenance.upcoming_windows()]
