"""Incoming documents from an agency's mailbox: a real dovecot, messages put there by IMAP APPEND, the job body."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from sqlalchemy import func, select

from app.documents import services as documents
from app.documents.models import Document
from app.extensions import db
from app.intake import secrets
from app.intake import services as intake
from app.intake.errors import MailboxSettingsError
from app.intake.models import Mailbox, MailMessage
from app.jobs import bodies
from app.notifications.models import Notification
from tests.integration.documents.conftest import png_bytes

PROCESSED = "Đã nhận vào QLVB"


def _mailbox(o, server, user: str, *, password: str | None = None) -> int:
    box = Mailbox(agency_id=o.agency_id, name=f"Hộp thư {user}", host=server.host, port=server.port,
                  security="none", username=user, folder="INBOX", processed_folder=PROCESSED, active=True)
    intake.validate_settings(box, new_password=password or server.users[user])
    db.session.add(box)
    db.session.commit()
    return box.id


def _message(subject: str, *, files: tuple[tuple[str, bytes, str], ...] = (), message_id: str | None = None,
             sender: str = "Văn phòng UBND tỉnh <vanphong@vinhphuc.gov.vn>") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "vanthu@sttn.vinhphuc.gov.vn"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="vinhphuc.gov.vn")
    msg.set_content("Kính gửi văn thư, xin gửi văn bản kèm theo.")
    for name, data, mime in files:
        main, sub = mime.split("/")
        msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return bytes(msg)


def _docs(o) -> list[Document]:
    return list(db.session.scalars(select(Document).where(Document.agency_id == o.agency_id,
                                                          Document.channel == "email")))


def test_a_message_with_a_pdf_becomes_a_document_awaiting_registration(office, imap_server, imap_user, sample_pdf,
                                                                        logged_in):
    o = office()
    box_id = _mailbox(o, imap_server, imap_user)
    imap_server.append(imap_user, _message("Fwd: Về việc triển khai chuyển đổi số năm 2027",
                                           files=(("Công văn 123.pdf", sample_pdf, "application/pdf"),)))
    assert bodies.poll_mailbox(box_id) == 1
    [doc] = _docs(o)
    assert doc.status == "awaiting_registration" and doc.direction == "incoming"
    assert doc.summary == "Về việc triển khai chuyển đổi số năm 2027"
    assert doc.issuer_name == "Văn phòng UBND tỉnh"
    assert doc.received_at is not None
    kinds = sorted((a.kind, a.content_type) for a in doc.attachments)
    assert kinds == [("email", "message/rfc822"), ("original", "application/pdf")]
    assert {a.filename for a in doc.attachments} == {"Công văn 123.pdf", "thu-dien-tu.eml"}
    # Moved out of the inbox, never read twice.
    assert imap_server.count(imap_user, "INBOX") == 0 and imap_server.count(imap_user, PROCESSED) == 1
    [record] = db.session.scalars(select(MailMessage).where(MailMessage.agency_id == o.agency_id)).all()
    assert record.result == "accepted" and record.document_id == doc.id
    # The clerks are told (the register step of the agency's incoming process opened for them).
    clerk = o.accounts["clerk"].user_id
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == clerk, Notification.agency_id == o.agency_id)) >= 1
    page = logged_in(o.accounts["clerk"]).get(f"/documents/{doc.id}").get_data(as_text=True)
    assert "Thư điện tử" in page and "Chờ vào sổ" in page
    # Registered with the usual form, prefilled with what the message said.
    documents.register_received(doc.id, actor=o.actors["clerk"], data={
        "doc_type": "cong_van", "number_notation": "123/UBND-VX", "issue_date": dt.date(2026, 12, 2),
        "signer_name": "Nguyễn Văn Bình"})
    db.session.commit()
    db.session.refresh(doc)
    assert doc.status == "registered" and doc.number is not None and doc.channel == "email"
    assert doc.summary == "Về việc triển khai chuyển đổi số năm 2027"
    assert bodies.poll_mailbox(box_id) == 0


def test_the_same_message_is_never_imported_twice(office, imap_server, imap_user, sample_pdf):
    o = office()
    box_id = _mailbox(o, imap_server, imap_user)
    raw = _message("Giấy mời họp", files=(("giay-moi.pdf", sample_pdf, "application/pdf"),),
                   message_id="<giay-moi-2026@vinhphuc.gov.vn>")
    imap_server.append(imap_user, raw)
    imap_server.append(imap_user, raw)  # the sender's client sent it twice
    assert bodies.poll_mailbox(box_id) == 1
    imap_server.append(imap_user, raw)  # and again later
    assert bodies.poll_mailbox(box_id) == 0
    assert len(_docs(o)) == 1
    assert imap_server.count(imap_user, "INBOX") == 0 and imap_server.count(imap_user, PROCESSED) == 3


@pytest.mark.parametrize(("case", "reason"), [
    ("no_attachment", "không có tệp đính kèm"),
    ("script", "tệp chương trình hoặc tập lệnh"),
    ("fake_pdf", "không phải PDF"),
    ("malformed", "sai định dạng MIME"),
    ("oversized", "vượt giới hạn 1 MB"),
])
def test_bad_messages_are_refused_with_a_reason_and_nothing_stored(office, imap_server, imap_user, sample_pdf,
                                                                   app, case, reason):
    o = office()
    box_id = _mailbox(o, imap_server, imap_user)
    if case == "no_attachment":
        raw = _message("Chỉ có lời nhắn")
    elif case == "script":
        raw = _message("Hóa đơn", files=(("hoa-don.pdf", sample_pdf, "application/pdf"),
                                         ("hoa-don.vbs", b"MsgBox 1", "application/octet-stream")))
    elif case == "fake_pdf":
        raw = _message("Công văn", files=(("cong-van.pdf", png_bytes(), "application/pdf"),))
    elif case == "malformed":
        raw = (b"From: a@b.vn\r\nSubject: Hong\r\nMessage-ID: <hong@b.vn>\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\nno boundary ever starts here\r\n")
    else:
        app.config["QLVB_MAIL_INTAKE_MAX_MB"] = 1
        raw = _message("Hồ sơ lớn", files=(("ho-so.pdf", sample_pdf + b"%" * (1200 * 1024), "application/pdf"),))
    try:
        imap_server.append(imap_user, raw)
        before = db.session.scalar(select(func.count()).select_from(Document))
        assert bodies.poll_mailbox(box_id) == 0
    finally:
        app.config.pop("QLVB_MAIL_INTAKE_MAX_MB", None)
    assert db.session.scalar(select(func.count()).select_from(Document)) == before
    [record] = db.session.scalars(select(MailMessage).where(MailMessage.agency_id == o.agency_id)).all()
    assert record.result == "refused" and reason in record.reason and record.document_id is None
    assert imap_server.count(imap_user, "INBOX") == 0
    assert imap_server.count(imap_user, PROCESSED, "FLAGGED") == 1
    note = db.session.scalar(select(Notification).where(Notification.agency_id == o.agency_id,
                                                        Notification.kind == "mail_refused",
                                                        Notification.user_id == o.accounts["clerk"].user_id))
    assert note is not None and reason in note.body
    assert bodies.poll_mailbox(box_id) == 0  # recorded once, not retried


def test_a_wrong_password_is_recorded_for_the_admin_and_the_lease_released(office, imap_server, imap_user):
    o = office()
    box_id = _mailbox(o, imap_server, imap_user, password="sai-mat-khau")
    assert bodies.poll_mailbox(box_id) == 0
    box = db.session.get(Mailbox, box_id)
    db.session.refresh(box)
    assert "từ chối đăng nhập" in box.last_error and box.lease_owner is None and box.last_polled_at is not None


def test_two_workers_never_hold_one_mailbox(office, imap_server, imap_user):
    o = office()
    box_id = _mailbox(o, imap_server, imap_user)
    token = intake.claim_mailbox(box_id)
    db.session.commit()
    assert token is not None and intake.claim_mailbox(box_id) is None
    assert box_id not in intake.due_mailbox_ids()
    assert bodies.poll_mailbox(box_id) == 0  # the second worker leaves it alone
    intake.release_mailbox(box_id, token)
    db.session.commit()
    assert box_id in intake.due_mailbox_ids()


def test_the_periodic_job_fans_out_one_task_per_mailbox(office, imap_server, imap_user, sample_pdf):
    o = office()
    box_id = _mailbox(o, imap_server, imap_user)
    queued: list[int] = []
    assert bodies.poll_mailboxes(dispatch=queued.append) >= 1
    assert box_id in queued
    imap_server.append(imap_user, _message("Thông báo", files=(("tb.pdf", sample_pdf, "application/pdf"),)))
    assert bodies.poll_mailboxes() >= 1  # the embedded scheduler runs them in turn
    assert len(_docs(o)) == 1


def test_password_is_sealed_and_references_are_restricted(office, imap_server, imap_user, monkeypatch):
    o = office()
    box_id = _mailbox(o, imap_server, imap_user)
    box = db.session.get(Mailbox, box_id)
    assert imap_server.users[imap_user] not in (box.password_sealed or "")
    assert secrets.unseal(box.password_sealed) == imap_server.users[imap_user]
    with pytest.raises(MailboxSettingsError, match="QLVB_MAIL_PASSWORD_"):
        box.password_ref = "SECRET_KEY"
        intake.validate_settings(box, new_password=None)
    db.session.rollback()
    monkeypatch.setenv("QLVB_MAIL_PASSWORD_STN", imap_server.users[imap_user])
    box = db.session.get(Mailbox, box_id)
    box.password_ref, box.password_sealed = "QLVB_MAIL_PASSWORD_STN", None
    intake.validate_settings(box, new_password=None)
    db.session.commit()
    assert intake.test_mailbox(box_id, o.agency_id) == 0


def test_agency_admin_adds_a_mailbox_and_checks_the_connection(office, make_account, imap_server, imap_user,
                                                               logged_in):
    o = office()
    admin = make_account(o.code, ["agency_admin"], name="Quản trị cơ quan")
    c = logged_in(admin)
    form = c.get("/mailboxadminview/add").get_data(as_text=True)
    assert "Kiểm tra kết nối" not in form and "Máy chủ IMAP" in form
    resp = c.form_post("/mailboxadminview/add", {
        "name": "Hộp thư văn thư", "host": imap_server.host, "port": str(imap_server.port), "security": "none",
        "username": imap_user, "password": imap_server.users[imap_user], "password_ref": "", "folder": "INBOX",
        "processed_folder": PROCESSED, "active": "y"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    box = db.session.scalar(select(Mailbox).where(Mailbox.agency_id == o.agency_id))
    assert box is not None and box.password_sealed.startswith("v1:")
    show = c.get(f"/mailboxadminview/show/{box.id}").get_data(as_text=True)
    assert "Kiểm tra kết nối" in show and imap_server.users[imap_user] not in show
    resp = c.form_post(f"/mailboxadminview/action/check_connection/{box.id}", {"action": "check_connection"},
                       from_page=f"/mailboxadminview/show/{box.id}", follow_redirects=True)
    assert "Kết nối thành công" in resp.get_data(as_text=True)
    # Another agency's admin does not see it.
    other = office()
    stranger = logged_in(make_account(other.code, ["agency_admin"], name="Quản trị khác"))
    assert stranger.get(f"/mailboxadminview/show/{box.id}").status_code == 404
