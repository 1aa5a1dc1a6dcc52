"""Giao việc over HTTP: real logins and CSRF, the SoICT task_assignment diagram, the inbox's generic task page."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from sqlalchemy import select

from app.assignments import queries as aq
from app.assignments.models import WorkItem
from app.core import clock
from app.extensions import db
from app.notifications.models import Notification
from app.tenancy.models import Department
from app.workflow import queries as wfq


def _dept(agency_id: int, code: str) -> Department:
    return db.session.scalar(select(Department).where(Department.agency_id == agency_id, Department.code == code))


def _in_days(days: int) -> str:
    return (clock.today() + dt.timedelta(days=days)).strftime("%d/%m/%Y")


@pytest.fixture
def office(make_agency, make_account):
    agency = make_agency()
    leader = make_account(agency.code, ["leader"], name="Phạm Văn Lãnh")
    head = make_account(agency.code, ["head"], department_code="nv", name="Vũ Thị Trưởng")
    specialist = make_account(agency.code, ["specialist"], department_code="nv", name="Đỗ Thị Lan")
    helper = make_account(agency.code, ["specialist"], department_code="vp", name="Ngô Quốc Việt")
    bystander = make_account(agency.code, ["specialist"], department_code="nv", name="Lê Văn Ngoài")
    return agency, leader, head, specialist, helper, bystander


def _open_task(item_id: int, form_key: str):
    item = db.session.get(WorkItem, item_id)
    db.session.refresh(item)
    tasks = [t for t in wfq.open_tasks(item.instance_id) if t.form_key == form_key]
    assert len(tasks) == 1, [(t.bpmn_id, t.form_key) for t in wfq.open_tasks(item.instance_id)]
    return tasks[0]


def _assign(c, agency, specialist, helper, *, deadline: str, title: str = "Rà soát quy chế văn thư năm 2027") -> int:
    nv = _dept(agency.id, "nv")
    resp = c.form_post("/assignments/new", {
        "title": title, "description": "Đối chiếu với Nghị định 30/2020/NĐ-CP.",
        "lead_user_id": str(specialist.user_id), "lead_department_id": str(nv.id),
        "coordinating_user_ids": [str(helper.user_id)], "deadline": deadline,
        "files": (io.BytesIO("Danh mục tài liệu cần rà soát".encode()), "danh_muc.txt"),
    }, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
    assert "Đã giao việc" in c.get(resp.headers["Location"]).get_data(as_text=True)  # the flash is read here
    return int(re.search(r"/assignments/(\d+)", resp.headers["Location"]).group(1))


def test_leader_assigns_specialist_reports_asks_extension_finishes_and_leader_evaluates(office, logged_in):
    agency, leader, _head, specialist, helper, bystander = office
    lc, sc = logged_in(leader), logged_in(specialist)
    item_id = _assign(lc, agency, specialist, helper, deadline=_in_days(10))
    item = aq.get_work_item(item_id)
    assert item.status == "open" and item.lead_user_id == specialist.user_id
    assert item.coordinating_user_ids == (helper.user_id,)

    # The specialist finds it in the inbox, with the work's title, and in "Việc được giao".
    inbox = sc.get("/inbox/").get_data(as_text=True)
    assert "Rà soát quy chế văn thư năm 2027" in inbox
    assert "Rà soát quy chế văn thư năm 2027" in sc.get("/assignments/?list=assigned_to_me").get_data(as_text=True)
    detail = sc.get(f"/assignments/{item_id}").get_data(as_text=True)
    assert "Báo cáo tiến độ / hoàn thành" in detail and "danh_muc.txt" in detail and "0%" in detail

    # 40% through the generic task page: a report row, the bar moves, a new report step opens.
    report = _open_task(item_id, "task_report")
    resp = sc.form_post(f"/tasks/{report.id}", {"percent": "40", "note": "Đã rà soát 4/10 điều."})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
    assert aq.get_work_item(item_id).percent == 40
    page = lc.get(f"/assignments/{item_id}").get_data(as_text=True)
    assert "Đã rà soát 4/10 điều." in page and "40%" in page and "Đỗ Thị Lan" in page

    # An extension request without a date is refused next to the field, nothing changes.
    report = _open_task(item_id, "task_report")
    resp = sc.form_post(f"/tasks/{report.id}", {"percent": "50", "request_extension": "y"})
    assert resp.status_code == 200 and "Trường này là bắt buộc" in resp.get_data(as_text=True)
    new_deadline = clock.today() + dt.timedelta(days=20)
    resp = sc.form_post(f"/tasks/{report.id}", {"percent": "50", "note": "Cần thêm thời gian lấy ý kiến các phòng.",
                                                "request_extension": "y",
                                                "new_deadline": new_deadline.strftime("%d/%m/%Y")})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]

    # The leader decides; the deadline moves and the next report step is due on the new day.
    decision = _open_task(item_id, "task_extension_decision")
    assert decision.candidate_user_id == leader.user_id
    assert "Xét đề nghị gia hạn" in lc.get(f"/assignments/{item_id}").get_data(as_text=True)
    resp = lc.form_post(f"/tasks/{decision.id}", {"decision": "approve", "comment": "Đồng ý gia hạn."})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
    item = aq.get_work_item(item_id)
    assert item.deadline == new_deadline and item.original_deadline != new_deadline
    report = _open_task(item_id, "task_report")
    assert report.due_at.astimezone(clock.VN_TZ).date() == new_deadline
    page = lc.get(f"/assignments/{item_id}").get_data(as_text=True)
    assert "Đã đồng ý" in page and new_deadline.strftime("%d/%m/%Y") in page

    # 100%: finished, the leader evaluates.
    resp = sc.form_post(f"/tasks/{report.id}", {"percent": "100", "note": "Đã hoàn thành dự thảo quy chế."})
    assert resp.status_code == 302
    assert aq.get_work_item(item_id).status == "done"
    evaluation = _open_task(item_id, "task_evaluate")
    resp = lc.form_post(f"/tasks/{evaluation.id}", {"rating": "good", "comment": "Đạt yêu cầu."})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
    item = aq.get_work_item(item_id)
    assert item.status == "evaluated" and item.rating == "good"
    db.session.expire_all()
    assert wfq.get_instance(item.instance_id).status == "completed"
    page = lc.get(f"/assignments/{item_id}").get_data(as_text=True)
    assert "Hoàn thành tốt" in page and "Đã đánh giá" in page

    # The coordinating person was told and sees it; an uninvolved specialist of the same department does not.
    told = db.session.scalars(select(Notification.title).where(Notification.user_id == helper.user_id)).all()
    assert "Phối hợp thực hiện: Rà soát quy chế văn thư năm 2027" in told
    assert logged_in(helper).get(f"/assignments/{item_id}").status_code == 200
    outsider = logged_in(bystander)
    assert outsider.get(f"/assignments/{item_id}").status_code == 404
    assert "Rà soát quy chế" not in outsider.get("/assignments/?list=all").get_data(as_text=True)
    assert outsider.get(f"/assignments/{item_id}/files/1").status_code == 404


def test_overdue_work_is_on_the_leaders_overdue_list(office, logged_in, make_account, make_agency):
    agency, leader, head, specialist, helper, _ = office
    lc = logged_in(leader)
    item_id = _assign(lc, agency, specialist, helper, deadline=_in_days(1), title="Báo cáo số liệu quý IV")
    other_leader = make_account(agency.code, ["leader"], name="Hoàng Thị Phó")
    assert "Báo cáo số liệu quý IV" not in lc.get("/assignments/?list=overdue").get_data(as_text=True)
    clock.freeze(clock.now() + dt.timedelta(days=5))
    try:
        page = lc.get("/assignments/?list=overdue").get_data(as_text=True)
        assert "Báo cáo số liệu quý IV" in page and "Quá hạn" in page
        # Every leader of the agency watches overdue work, not only the one who assigned it.
        assert "Báo cáo số liệu quý IV" in logged_in(other_leader).get("/assignments/?list=overdue").get_data(
            as_text=True)
        # The head of the lead department too; the inbox's overdue tab has the specialist's step.
        assert "Báo cáo số liệu quý IV" in logged_in(head).get("/assignments/?list=overdue").get_data(as_text=True)
        assert "Báo cáo số liệu quý IV" in logged_in(specialist).get("/inbox/?tab=overdue").get_data(as_text=True)
    finally:
        clock.freeze(None)
    # Another agency's leader sees nothing of it, not even by id.
    stranger_agency = make_agency()
    stranger = make_account(stranger_agency.code, ["leader"])
    sc = logged_in(stranger)
    assert sc.get(f"/assignments/{item_id}").status_code == 404
    assert "Báo cáo số liệu quý IV" not in sc.get("/assignments/?list=overdue").get_data(as_text=True)


def test_assigning_errors_are_clear_and_specialists_cannot_assign(office, logged_in):
    agency, leader, _head, specialist, _helper, _ = office
    lc = logged_in(leader)
    resp = lc.form_post("/assignments/new", {"title": "", "deadline": "31/02/2020"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Không được để trống" in body and "Ngày không hợp lệ" in body
    assert "Hãy chọn người chủ trì hoặc đơn vị chủ trì" in body
    resp = lc.form_post("/assignments/new", {"title": "Việc cũ", "deadline": "01/01/2020",
                                             "lead_user_id": str(specialist.user_id)})
    assert "Hạn hoàn thành không được trước ngày hôm nay" in resp.get_data(as_text=True)
    # Only the department is chosen: its head leads.
    nv = _dept(agency.id, "nv")
    resp = lc.form_post("/assignments/new", {"title": "Giao cho phòng", "deadline": _in_days(3),
                                             "lead_department_id": str(nv.id)})
    assert resp.status_code == 302
    item_id = int(re.search(r"/assignments/(\d+)", resp.headers["Location"]).group(1))
    assert aq.get_work_item(item_id).lead_user_id == _head.user_id
    sc = logged_in(specialist)
    assert sc.get("/assignments/new").status_code in (302, 403)
    assert "Giao việc mới" not in sc.get("/assignments/").get_data(as_text=True)
