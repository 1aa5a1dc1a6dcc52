"""A timer whose path fails becomes an incident for the agency admin; every other instance still fires
(issue #12, item 5). The admin retries after the cause is fixed, skips the failing step, or cancels."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from app.core.errors import DomainError
from app.extensions import db
from app.jobs import bodies
from app.workflow import incidents
from app.workflow import services as wf
from app.workflow.models import HumanTask, ProcessInstance, WorkflowIncident
from app.workflow.operations import register_operation, unregister_operation

from .timer_process import ROLES, TIMER_BPMN

# The timer's path goes through an automatic step (an operation) before the late step opens.
FAILING_BPMN = TIMER_BPMN.replace("timer_test", "timer_incident").replace(
    '<bpmn:outgoing>f3</bpmn:outgoing>', '<bpmn:outgoing>f3</bpmn:outgoing>', 1).replace(
    '<bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="escalate" />',
    '<bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="warn" />'
    '<bpmn:sequenceFlow id="f3b" sourceRef="warn" targetRef="escalate" />').replace(
    '<bpmn:userTask id="escalate" name="Xử lý việc quá hạn">',
    '<bpmn:serviceTask id="warn" name="Báo cáo quá hạn lên Sở">'
    '<bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="test.report_late" /></bpmn:extensionElements>'
    '<bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f3b</bpmn:outgoing></bpmn:serviceTask>'
    '<bpmn:userTask id="escalate" name="Xử lý việc quá hạn">').replace(
    '<bpmn:incoming>f3</bpmn:incoming>\n      <bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>',
    '<bpmn:incoming>f3b</bpmn:incoming>\n      <bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>').replace(
    '<bpmn:flowNodeRef>done</bpmn:flowNodeRef>', '<bpmn:flowNodeRef>done</bpmn:flowNodeRef>'
    '<bpmn:flowNodeRef>warn</bpmn:flowNodeRef>')


class ReportingDown(DomainError):
    pass


@pytest.fixture
def reporting() -> Any:
    state = {"up": False, "calls": 0}

    def report(_ref: Any, _data: dict[str, Any]) -> dict[str, Any]:
        state["calls"] += 1
        if not state["up"]:
            raise ReportingDown("Hệ thống báo cáo của Sở không trả lời")
        return {"reported": True}

    register_operation("test.report_late", report, replace=True)
    yield state
    unregister_operation("test.report_late")


def _publish(agency_id: int) -> None:
    from app.workflow.services import publish_version

    publish_version(agency_id, "timer_incident", FAILING_BPMN.replace("{seconds}", "1"), by_user_id=None, note="",
                    known_roles=ROLES, known_forms=None, known_operations=frozenset({"test.report_late"}))
    publish_version(agency_id, "timer_test", TIMER_BPMN.replace("{seconds}", "1"), by_user_id=None, note="",
                    known_roles=ROLES, known_forms=None, known_operations=frozenset())


def _open(instance_id: int) -> list[str]:
    return list(db.session.scalars(select(HumanTask.name).where(HumanTask.instance_id == instance_id,
                                                                HumanTask.state == "open")))


def _start(office: Any, key: str, n: int) -> int:
    inst = wf.start_instance(office.agency.id, key, subject_type="task", subject_id=n, data={},
                             actor=office["clerk"].actor)
    return inst.id


def test_a_failing_timer_becomes_an_incident_and_the_others_fire(office: Any, reporting: Any, make_account: Any,
                                                                 logged_in: Any) -> None:
    _publish(office.agency.id)
    bad, good, bad2 = _start(office, "timer_incident", 1), _start(office, "timer_test", 2), \
        _start(office, "timer_incident", 3)
    db.session.commit()
    time.sleep(1.2)
    assert bodies.fire_due_timers() == 1  # the good one; the two failing ones are parked, not retried each minute
    db.session.expire_all()
    assert _open(good) == ["Xử lý việc quá hạn"]
    assert _open(bad) == ["Xử lý trong hạn"]  # rolled back to before the timer: nothing half-done
    parked = db.session.get(ProcessInstance, bad)
    assert parked.status == "running" and parked.next_timer_at is None
    assert bodies.fire_due_timers() == 0 and reporting["calls"] == 2
    (first, second) = sorted(incidents.list_incidents(office.agency.id), key=lambda i: i.instance_id)
    assert (first.instance_id, first.element_id, first.element_name) == (bad, "warn", "Báo cáo quá hạn lên Sở")
    assert "Hệ thống báo cáo của Sở không trả lời" in first.message and first.attempts == 1

    admin = make_account(office.agency.code, ["agency_admin"], name="Lê Quản Trị")
    page = logged_in(admin)
    listing = page.get("/incidents/").get_data(as_text=True)
    assert "Báo cáo quá hạn lên Sở" in listing and "Hệ thống báo cáo của Sở không trả lời" in listing
    assert "Xử lý trong hạn" not in listing  # a step that did not fail is not an incident

    # Retry while the cause is still there: the incident stays, with one more attempt and the error shown.
    resp = page.form_post(f"/incidents/{first.id}/retry", {}, from_page="/incidents/")
    assert resp.status_code == 302
    db.session.expire_all()
    row = db.session.get(WorkflowIncident, first.id)
    assert row.resolved_at is None and row.attempts == 2
    reporting["up"] = True
    page.form_post(f"/incidents/{first.id}/retry", {}, from_page="/incidents/")
    db.session.expire_all()
    assert db.session.get(WorkflowIncident, first.id).resolution == "retried"
    assert _open(bad) == ["Xử lý việc quá hạn"]

    # The second one: skipped with a reason (the report is made by hand), then the route goes on.
    reporting["up"] = False
    refused = page.form_post(f"/incidents/{second.id}/skip", {"reason": ""}, from_page="/incidents/")
    assert refused.status_code == 302
    assert db.session.get(WorkflowIncident, second.id).resolved_at is None
    page.form_post(f"/incidents/{second.id}/skip", {"reason": "Đã gửi báo cáo bằng văn bản giấy"},
                   from_page="/incidents/")
    db.session.expire_all()
    assert db.session.get(WorkflowIncident, second.id).resolution == "skipped"
    assert _open(bad2) == ["Xử lý việc quá hạn"] and reporting["calls"] == 4  # skipped, not run again
    assert "Không có sự cố nào" in page.get("/incidents/").get_data(as_text=True)


def test_cancel_and_other_agencies(office: Any, reporting: Any, make_account: Any, make_agency: Any,
                                   logged_in: Any) -> None:
    other = make_agency()
    stranger_account = make_account(other.code, ["agency_admin"], name="Người Cơ Quan Khác")
    for agency_id in (office.agency.id, other.id):
        _publish(agency_id)
    bad = _start(office, "timer_incident", 7)
    wf.start_instance(other.id, "timer_incident", subject_type="task", subject_id=8, data={},
                      actor=office["clerk"].actor.__class__(user_id=stranger_account.user_id, agency_id=other.id,
                                                            roles=frozenset({"clerk"})))
    db.session.commit()
    time.sleep(1.2)
    bodies.fire_due_timers()
    (incident,) = incidents.list_incidents(office.agency.id)
    (theirs,) = incidents.list_incidents(other.id)
    stranger = logged_in(stranger_account)
    assert f"/incidents/{theirs.id}/retry" in stranger.get("/incidents/").get_data(as_text=True)
    assert f"/incidents/{incident.id}/" not in stranger.get("/incidents/").get_data(as_text=True)
    stranger.form_post(f"/incidents/{incident.id}/cancel", {"reason": "Không phải của tôi"}, from_page="/incidents/")
    db.session.expire_all()
    assert db.session.get(WorkflowIncident, incident.id).resolved_at is None  # another agency's: untouched
    clerk = logged_in(office["clerk"].account)
    assert clerk.get("/incidents/").status_code in (302, 403, 404)
    admin = logged_in(make_account(office.agency.code, ["agency_admin"], name="Lê Quản Trị"))
    admin.form_post(f"/incidents/{incident.id}/cancel", {"reason": "Việc đã xử lý ngoài hệ thống"},
                    from_page="/incidents/")
    db.session.expire_all()
    assert db.session.get(ProcessInstance, bad).status == "cancelled"
    assert db.session.get(WorkflowIncident, incident.id).resolution == "cancelled"
