"""Pure parts of notifications: retry backoff, deadline wording, the e-mail message."""

from __future__ import annotations

import datetime as dt

from app import models  # noqa: F401  (configures every mapper, as create_app does; no database)
from app.notifications import mail
from app.notifications.models import EmailOutbox
from app.notifications.tasks import deadline_text


def test_backoff_doubles_and_is_capped() -> None:
    assert [mail.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert mail.backoff(20) == dt.timedelta(hours=6)


def test_deadline_reads_in_vietnam_time() -> None:
    assert deadline_text(dt.datetime(2031, 3, 12, 10, 0, tzinfo=dt.UTC)) == "17:00 ngày 12/03/2031"
    assert deadline_text(None) == ""


def test_message_is_utf8_with_stable_id_and_priority() -> None:
    row = EmailOutbox(to_addr="a@b.vn", subject="[KHẨN] Hỏa tốc – Công việc mới", body="Nội dung tiếng Việt",
                      message_id="<x@qlvb>", urgent=True)
    msg = mail._message(row, "qlvb@vinhphuc.gov.vn")
    assert msg["Message-ID"] == "<x@qlvb>" and msg["Importance"] == "high"
    assert msg.get_content().strip() == "Nội dung tiếng Việt"
    assert "utf-8" in msg.as_string()
