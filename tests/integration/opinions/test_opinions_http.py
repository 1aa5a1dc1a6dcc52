"""Xin ý kiến over HTTP: reviewers in the agency and in another agency, each answering in their own instance."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from sqlalchemy import select

from app.core import clock
from app.extensions import db
from app.jobs import bodies
from app.notifications.models import Notification
from app.opinions import queries as oq
from app.opinions import services as os_
from app.opinions.models import OpinionRequest, OpinionReviewer
from app.workflow import queries as wfq


@pytest.fixture
def people(make_agency, make_account):
    home = make_agency(name="Sở Thử nghiệm A", abbreviation="STNA")
    other = make_agency(name="Sở Thử nghiệm B", abbreviation="STNB")
    requester = make_account(home.code, ["specialist"], department_code="nv", name="Đỗ Thị Lan")
    first = make_account(home.code, ["specialist"], department_code="vp", name="Ngô Quốc Việt")
    second = make_account(home.code, ["head"], department_code="nv", name="Vũ Thị Trưởng")
    outside = make_account(other.code, ["leader"], name="Trịnh Xuân Bách")
    bystander = make_account(home.code, ["specialist"], department_code="nv", name="Lê Văn Ngoài")
    return home, other, requester, first, second, outside, bystander


def _copy_of(request_id: int) -> OpinionRequest:
    db.session.expire_all()
    return db.session.scalar(
        select(OpinionRequest).join(OpinionReviewer, OpinionRequest.origin_reviewer_id == OpinionReviewer.id)
        .where(OpinionReviewer.request_id == request_id))


def test_three_reviewers_answer_in_their_own_instances_and_the_requester_sees_the_table(people, logged_in):
    home, other, requester, first, second, outside, bystander = people
    rc = logged_in(requester)
    deadline = clock.today() + dt.timedelta(days=3)
    page = rc.get("/opinions/new").get_data(as_text=True)
    assert "Trịnh Xuân Bách — Sở Thử nghiệm B" in page and "Ngô Quốc Việt" in page
    resp = rc.form_post("/opinions/new", {
        "title": "Dự thảo Quy chế phối hợp chuyển đổi số", "content": "Đề nghị cho ý kiến trước ngày hạn.",
        "reviewer_user_ids": [str(first.user_id), str(second.user_id)],
        "external_reviewers": [f"user:{other.code}:{outside.user_id}"],
        "deadline": deadline.strftime("%d/%m/%Y"),
        "files": (io.BytesIO("Dự thảo quy chế, bản 1".encode()), "du_thao.txt"),
    }, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
    request_id = int(re.search(r"/opinions/(\d+)", resp.headers["Location"]).group(1))
    rc.get(resp.headers["Location"])  # read the flash

    # The reviewer of another agency got a linked copy, with its own instance, in their own agency.
    copy = _copy_of(request_id)
    assert copy.agency_id == other.id and copy.origin_agency_id == home.id
    assert wfq.get_instance(copy.instance_id).agency_id == other.id
    original = db.session.get(OpinionRequest, request_id)
    assert wfq.get_instance(original.instance_id).agency_id == home.id

    # First reviewer answers on the request page, with a file.
    c1 = logged_in(first)
    assert "Dự thảo Quy chế phối hợp chuyển đổi số" in c1.get("/opinions/?list=to_answer").get_data(as_text=True)
    detail = c1.get(f"/opinions/{request_id}").get_data(as_text=True)
    assert "Ý kiến của bạn" in detail and "du_thao.txt" in detail
    resp = c1.form_post(f"/opinions/{request_id}/answer", {"answer": "disagree", "comment": ""},
                        from_page=f"/opinions/{request_id}")
    assert resp.status_code == 302
    assert "Bắt buộc khi đồng ý có ý kiến hoặc không đồng ý" in c1.get(f"/opinions/{request_id}").get_data(
        as_text=True)
    resp = c1.form_post(f"/opinions/{request_id}/answer", {
        "answer": "agree", "comment": "", "files": (io.BytesIO(b"Khong co y kien them"), "y_kien.txt")},
        from_page=f"/opinions/{request_id}", content_type="multipart/form-data")
    assert resp.status_code == 302

    # The external leader answers in their own agency, through the generic inbox task page.
    oc = logged_in(outside)
    assert "Dự thảo Quy chế phối hợp chuyển đổi số" in oc.get("/inbox/").get_data(as_text=True)
    copy_page = oc.get(f"/opinions/{copy.id}").get_data(as_text=True)
    assert "Liên thông từ" in copy_page and "Sở Thử nghiệm A" in copy_page and "du_thao.txt" in copy_page
    task = next(t for t in wfq.open_tasks(copy.instance_id) if t.form_key == "opinion_answer")
    resp = oc.form_post(f"/tasks/{task.id}", {"answer": "agree_with_comments",
                                              "comment": "Đề nghị bổ sung trách nhiệm của Sở Thử nghiệm B."})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
    # The external reviewer never sees the original (another agency's row), not even by id.
    assert oc.get(f"/opinions/{request_id}").status_code == 404

    # The requester sees the consolidated table; the second reviewer is listed as not answered.
    table = rc.get(f"/opinions/{request_id}").get_data(as_text=True)
    assert "2/3 đã trả lời" in table
    assert "Đồng ý có ý kiến" in table and "Đề nghị bổ sung trách nhiệm của Sở Thử nghiệm B." in table
    assert "y_kien.txt" in table and "Liên thông" in table
    assert re.search(r"Chưa trả lời \(1\):\s*Vũ Thị Trưởng", table)
    assert "qlvb-not-answered" in table
    # A reviewer sees their own answer only; an uninvolved colleague gets 404.
    assert "Đề nghị bổ sung trách nhiệm" not in c1.get(f"/opinions/{request_id}").get_data(as_text=True)
    assert logged_in(bystander).get(f"/opinions/{request_id}").status_code == 404
    assert logged_in(bystander).get(f"/opinions/{request_id}/files/1").status_code == 404

    # A reminder before the deadline for the one who has not answered, once.
    clock.freeze(clock.now() + dt.timedelta(days=2))
    try:
        due = [r for r in oq.opinion_reminders_due() if r.request_id == request_id]
        assert [r.user_ids for r in due] == [(second.user_id,)]
        assert bodies.send_opinion_reminders() >= 1  # the periodic job's body (it commits)
        assert os_.send_opinion_reminders() == 0
    finally:
        clock.freeze(None)
    notes = db.session.scalars(select(Notification).where(Notification.user_id == second.user_id,
                                                          Notification.kind == "due_soon")).all()
    assert len([n for n in notes if n.link == f"/opinions/{request_id}"]) == 1
    assert "Sắp đến hạn trả lời xin ý kiến" in notes[-1].title

    # The last answer opens the requester's consolidation step.
    c2 = logged_in(second)
    task = next(t for t in wfq.open_tasks(original.instance_id) if t.candidate_user_id == second.user_id)
    assert c2.form_post(f"/tasks/{task.id}", {"answer": "agree"}).status_code == 302
    page = rc.get(f"/opinions/{request_id}").get_data(as_text=True)
    assert "Hoàn thành tổng hợp" in page and "3/3 đã trả lời" in page
    resp = rc.form_post(f"/opinions/{request_id}/consolidate", {"summary": "Tiếp thu ý kiến của Sở Thử nghiệm B."},
                        from_page=f"/opinions/{request_id}")
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(OpinionRequest, request_id).status == "consolidated"
    assert wfq.get_instance(original.instance_id).status == "completed"


def test_request_errors_are_clear(people, logged_in, make_agency, make_account):
    _home, other, requester, *_ = people
    rc = logged_in(requester)
    resp = rc.form_post("/opinions/new", {"title": "", "deadline": ""})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Phiếu xin ý kiến chưa hợp lệ" in body
    assert "Hãy chọn ít nhất một người hoặc cơ quan cho ý kiến" in body and "Không được để trống" in body
    # An agency asked without a named person: its leaders share the answering step.
    resp = rc.form_post("/opinions/new", {"title": "Xin ý kiến cơ quan", "deadline": clock.today().strftime("%d/%m/%Y"),
                                          "external_reviewers": [f"agency:{other.code}"]})
    assert resp.status_code == 302
    request_id = int(re.search(r"/opinions/(\d+)", resp.headers["Location"]).group(1))
    copy = _copy_of(request_id)
    leader_b = make_account(other.code, ["leader"], name="Cao Văn Tùng")
    assert logged_in(leader_b).get(f"/opinions/{copy.id}").status_code == 200
    stranger = make_account(make_agency().code, ["leader"])
    assert logged_in(stranger).get(f"/opinions/{copy.id}").status_code == 404
