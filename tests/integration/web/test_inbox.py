"""The staff inbox and task pages over HTTP: real logins, real CSRF, a small two-step diagram."""
# ruff: noqa: E501  (the embedded BPMN is easier to read unwrapped)

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from sqlalchemy import select

from app.core.clock import today
from app.extensions import db
from app.tenancy.models import Department
from app.workflow import queries as wfq
from app.workflow import services as wf
from app.workflow.info import ActorRef
from tests.support.web import csrf_token

LEADER_DEADLINE = f"{today() + dt.timedelta(days=30):%d/%m/%Y}"  # deadlines are never in the past

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_t" targetNamespace="http://qlvb">
  <bpmn:collaboration id="Collab_t"><bpmn:participant id="Part_t" processRef="web_test" /></bpmn:collaboration>
  <bpmn:process id="web_test" isExecutable="true">
    <bpmn:laneSet id="LaneSet_t">
      <bpmn:lane id="Lane_leader" name="leader"><bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>assign</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane_head" name="head"><bpmn:flowNodeRef>confirm</bpmn:flowNodeRef><bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="assign" name="Phân công xử lý">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="incoming_assign" /></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="confirm" name="Xác nhận kết quả xử lý">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="incoming_confirm" />
        <spiffworkflow:property name="candidateDepartmentField" value="lead_department_id" /></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="StartEvent_1" targetRef="assign" />
    <bpmn:sequenceFlow id="f2" sourceRef="assign" targetRef="confirm" />
    <bpmn:sequenceFlow id="f3" sourceRef="confirm" targetRef="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>"""

ROLES = frozenset({"clerk", "leader", "head", "specialist", "legal"})


@pytest.fixture
def office(make_agency, make_account):
    agency = make_agency()
    nv = db.session.scalar(select(Department).where(Department.agency_id == agency.id, Department.code == "nv"))
    leader = make_account(agency.code, ["leader"], name="Phạm Văn Lãnh")
    head = make_account(agency.code, ["head"], department_code="nv", name="Vũ Thị Trưởng")
    other_head = make_account(agency.code, ["head"], department_code="vp", name="Lê Văn Khác")
    wf.publish_version(agency.id, "web_test", DIAGRAM, by_user_id=None, note="test", known_roles=ROLES,
                       known_forms={"incoming_assign", "incoming_confirm"}, known_operations=frozenset())
    actor = ActorRef(user_id=leader.user_id, agency_id=agency.id, roles=frozenset({"leader"}))
    instance = wf.start_instance(agency.id, "web_test", subject_type="web_test", subject_id=1, data={}, actor=actor)
    db.session.commit()
    return agency, nv, leader, head, other_head, instance


def test_leader_sees_the_task_and_completes_its_generated_form(office, logged_in):
    _, nv, leader, head, other_head, _ = office
    c = logged_in(leader)
    page = c.get("/inbox/").get_data(as_text=True)
    assert "Hộp công việc" in page and "Phân công xử lý" in page
    task_id = int(re.search(r'/tasks/(\d+)', page).group(1))
    form = c.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Đơn vị chủ trì" in form and "Phòng Nghiệp vụ" in form

    # Missing required field: Vietnamese error next to the field, nothing completed.
    resp = c.form_post(f"/tasks/{task_id}", {"direction": "Xử lý gấp"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Trường này là bắt buộc" in body
    assert wfq.get_task(task_id).state == "open"

    resp = c.form_post(f"/tasks/{task_id}", {"lead_department_id": str(nv.id), "direction": "Xử lý gấp",
                                             "deadline": LEADER_DEADLINE})
    assert resp.status_code == 302
    assert wfq.get_task(task_id).state == "done"

    # The head of the chosen department gets the next step; the head of another department does not.
    assert "Xác nhận kết quả xử lý" in logged_in(head).get("/inbox/").get_data(as_text=True)
    assert "Xác nhận kết quả xử lý" not in logged_in(other_head).get("/inbox/").get_data(as_text=True)
    # The leader's done tab and the timeline show what happened.
    done = c.get("/inbox/?tab=done").get_data(as_text=True)
    assert "Phân công xử lý" in done
    detail = c.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Phạm Văn Lãnh" in detail and "Xử lý gấp" in detail


def test_a_person_who_is_not_a_candidate_gets_404(office, logged_in, make_account):
    _, _, _, head, _, instance = office
    task = wfq.open_tasks(instance.id)[0]
    c = logged_in(head)
    assert c.get(f"/tasks/{task.id}").status_code == 404
    outsider = make_account("isotttt", ["leader"])
    assert logged_in(outsider).get(f"/tasks/{task.id}").status_code == 404


def test_stale_completion_gets_a_clear_message(office, logged_in, make_account):
    agency, nv, leader, *_ = office
    second_leader = make_account(agency.code, ["leader"], name="Hoàng Văn Phó")
    task = wfq.open_tasks(office[5].id)[0]
    a, b = logged_in(leader), logged_in(second_leader)
    page_a = a.get(f"/tasks/{task.id}").get_data(as_text=True)
    page_b = b.get(f"/tasks/{task.id}").get_data(as_text=True)
    data = {"lead_department_id": str(nv.id), "deadline": LEADER_DEADLINE}
    results = {}

    def submit(name, client, html):
        results[name] = client.post(f"/tasks/{task.id}", data={**data, "csrf_token": csrf_token(html)})

    threads = [threading.Thread(target=submit, args=("a", a, page_a)),
               threading.Thread(target=submit, args=("b", b, page_b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status_code == 302 for r in results.values()), {k: (r.status_code, r.get_data(as_text=True)[-800:]) for k, r in results.items()}
    follow = [client.get("/inbox/").get_data(as_text=True) for client in (a, b)]
    messages = [f for f in follow if "đã được xử lý bởi người khác" in f]
    assert len(messages) == 1
    assert len([t for t in wfq.open_tasks(office[5].id) if t.bpmn_id == "confirm"]) == 1


def test_a_stale_form_posted_after_a_colleague_finished_gets_the_message(office, logged_in, make_account):
    agency, nv, leader, *_ = office
    second_leader = make_account(agency.code, ["leader"], name="Trần Văn Phó")
    task = wfq.open_tasks(office[5].id)[0]
    a, b = logged_in(leader), logged_in(second_leader)
    stale_page = b.get(f"/tasks/{task.id}").get_data(as_text=True)
    data = {"lead_department_id": str(nv.id), "deadline": LEADER_DEADLINE}
    assert a.form_post(f"/tasks/{task.id}", data).status_code == 302
    resp = b.post(f"/tasks/{task.id}", data={**data, "csrf_token": csrf_token(stale_page)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/inbox/")
    assert "đã được xử lý bởi người khác" in b.get("/inbox/").get_data(as_text=True)
    assert len([t for t in wfq.open_tasks(office[5].id) if t.bpmn_id == "confirm"]) == 1


def test_leader_sees_late_steps_on_the_progress_view_and_specialists_cannot(office, logged_in, make_account):
    import datetime as dt

    from app.workflow.models import HumanTask

    agency, _, leader, *_ = office
    task = wfq.open_tasks(office[5].id)[0]
    row = db.session.get(HumanTask, task.id)
    row.due_at = dt.datetime(2020, 1, 2, tzinfo=dt.UTC)
    db.session.commit()
    page = logged_in(leader).get("/progress/").get_data(as_text=True)
    assert "Tiến độ xử lý" in page and "Phân công xử lý" in page and "ngày" in page
    home = logged_in(leader).get("/").get_data(as_text=True)
    assert "Quá hạn" in home
    specialist = make_account(agency.code, ["specialist"])
    assert logged_in(specialist).get("/progress/").status_code in (302, 403)
