"""Trao đổi: threads between colleagues, unread counts, reply notifications, files, and who sees what."""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any

import pytest

from app.core.errors import NotFoundError, ValidationError
from app.documents.errors import AttachmentRefusedError
from app.exchange import queries, services
from app.exchange.info import FileInput
from app.extensions import db
from app.notifications import queries as notes

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_thread_unread_counts_and_reply_notifications(office: Any) -> None:
    aid = office.agency.id
    head, spec_a, spec_b = office["head_nv"], office["spec_a"], office["spec_b"]
    thread_id = services.start_thread(
        head.actor, title="Số liệu báo cáo quý III", body="Anh Ân gửi giúp số liệu trước thứ Sáu.",
        participant_user_ids=[spec_a.user_id], files=[FileInput("so-lieu.txt", "Bảng số liệu quý III".encode())])
    db.session.commit()
    assert queries.unread_total(spec_a.user_id, aid) == 1 and queries.unread_total(head.user_id, aid) == 0
    (summary,) = queries.threads_for(spec_a.actor)
    assert summary.unread == 1 and summary.participant_names == ("Lê Văn Trưởng Phòng",)
    assert [n.title for n in notes.notifications_for(spec_a.user_id, aid)] == ["Trao đổi mới: Số liệu báo cáo quý III"]

    detail = queries.thread_detail(spec_a.actor, thread_id)
    assert detail.first_unread_id == detail.messages[0].id
    (file,) = detail.messages[0].files
    info, data = queries.file_for(spec_a.actor, file.id)
    assert info.content_type == "text/plain" and data.decode() == "Bảng số liệu quý III"
    services.mark_read(spec_a.actor, thread_id)
    services.reply(spec_a.actor, thread_id, "Em gửi anh số liệu ạ.")
    db.session.commit()
    assert queries.unread_total(spec_a.user_id, aid) == 0 and queries.unread_total(head.user_id, aid) == 1
    reply_note = notes.notifications_for(head.user_id, aid)[0]
    assert reply_note.title == "Trả lời: Số liệu báo cáo quý III" and reply_note.kind == "exchange_reply"
    assert reply_note.body == "Hoàng Văn Ân: Em gửi anh số liệu ạ."
    assert reply_note.link.startswith(f"/exchange/{thread_id}#m")

    # Not a participant: the thread and its file do not exist for them.
    for outsider in (spec_b.actor, office["leader"].actor):
        with pytest.raises(NotFoundError):
            queries.thread_detail(outsider, thread_id)
        with pytest.raises(NotFoundError):
            queries.file_for(outsider, file.id)
        with pytest.raises(NotFoundError):
            services.reply(outsider, thread_id, "Xen vào")
    assert queries.threads_for(spec_b.actor) == []

    services.add_participants(head.actor, thread_id, [spec_b.user_id])
    db.session.commit()
    assert queries.unread_total(spec_b.user_id, aid) == 2  # the history counts as unread for a newcomer


def test_files_are_checked_by_content_and_recipients_by_agency(office: Any, make_agency: Any,
                                                               make_account: Any) -> None:
    head, spec_a = office["head_nv"], office["spec_a"]
    with pytest.raises(AttachmentRefusedError, match=r"có đuôi \.pdf nhưng nội dung không phải PDF"):
        services.start_thread(head.actor, title="Tệp", body="Xem tệp", participant_user_ids=[spec_a.user_id],
                              files=[FileInput("bao-cao.pdf", PNG)])
    db.session.rollback()
    other = make_agency()
    stranger = make_account(other.code, ["specialist"], department_code="nv")
    with pytest.raises(ValidationError, match="phải là cán bộ đang làm việc tại cơ quan"):
        services.start_thread(head.actor, title="Hỏi", body="?", participant_user_ids=[stranger.user_id])
    with pytest.raises(ValidationError, match="Chọn ít nhất một người nhận"):
        services.start_thread(head.actor, title="Hỏi", body="?", participant_user_ids=[head.user_id])
    db.session.rollback()


def test_thread_about_a_task_of_the_same_agency_only(office: Any) -> None:
    from app.workflow import queries as wfq
    from app.workflow import services as wf
    from tests.support.ops import publish_template

    publish_template(office.agency.id, "incoming")
    inst = wf.start_instance(office.agency.id, "incoming", subject_type="test", subject_id=3, data={},
                             actor=office["clerk"].actor)
    task_id = inst.open_task_ids[0]
    thread_id = services.start_thread(office["clerk"].actor, title="Hỏi về văn bản", body="Văn bản này gửi ai?",
                                      participant_user_ids=[office["leader"].user_id], subject_type="task",
                                      subject_id=task_id)
    db.session.commit()
    assert [t.id for t in queries.threads_for(office["leader"].actor, subject=("task", task_id))] == [thread_id]
    assert wfq.get_task(task_id).agency_id == office.agency.id
    with pytest.raises(NotFoundError):
        services.start_thread(office["clerk"].actor, title="x", body="y", participant_user_ids=[
            office["leader"].user_id], subject_type="task", subject_id=10**9)
    db.session.rollback()


def test_exchange_pages(office: Any, logged_in: Any, make_agency: Any, make_account: Any) -> None:
    head, spec_a = logged_in(office["head_nv"].account), logged_in(office["spec_a"].account)
    resp = head.form_post("/exchange/new", {"title": "Lịch trực Tết", "body": "Mọi người đăng ký lịch trực nhé.",
                                            "participants": [str(office["spec_a"].user_id)],
                                            "files": (BytesIO("Danh sách trực".encode()), "truc-tet.txt")},
                          content_type="multipart/form-data")
    assert resp.status_code == 302
    thread_path = resp.headers["Location"].split(".localhost", 1)[-1]
    thread_id = int(re.search(r"/exchange/(\d+)", thread_path).group(1))
    listing = spec_a.get("/exchange/").get_data(as_text=True)
    assert "Lịch trực Tết" in listing and "1 tin chưa đọc" in listing
    page = spec_a.get(f"/exchange/{thread_id}").get_data(as_text=True)
    assert "Mọi người đăng ký lịch trực nhé." in page and "truc-tet.txt" in page
    assert "tin chưa đọc" not in spec_a.get("/exchange/").get_data(as_text=True)  # opening read it
    file_id = re.search(r"/exchange/file/(\d+)", page).group(1)
    download = spec_a.get(f"/exchange/file/{file_id}")
    assert download.status_code == 200 and download.data.decode() == "Danh sách trực"
    reply = spec_a.form_post(f"/exchange/{thread_id}/reply", {"body": "Em trực mùng 2."},
                             from_page=f"/exchange/{thread_id}")
    assert reply.status_code == 302
    assert "Em trực mùng 2." in head.get(f"/exchange/{thread_id}").get_data(as_text=True)

    colleague = logged_in(office["spec_b"].account)
    assert colleague.get(f"/exchange/{thread_id}").status_code == 404
    assert colleague.get(f"/exchange/file/{file_id}").status_code == 404
    assert "Lịch trực Tết" not in colleague.get("/exchange/").get_data(as_text=True)
    other = make_agency()
    stranger = logged_in(make_account(other.code, ["leader"]))
    assert stranger.get(f"/exchange/{thread_id}").status_code == 404
    assert stranger.get(f"/exchange/file/{file_id}").status_code == 404
    empty = head.form_post("/exchange/new", {"title": "", "body": "", "participants": []})
    assert "Nhập tiêu đề trao đổi" in empty.get_data(as_text=True)
