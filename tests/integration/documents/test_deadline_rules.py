"""The head's deadline for the specialist stays within the leader's, no deadline is set in the past, and the task
page says so next to the field (issue #15 item 2)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from app.core import clock
from app.core.errors import ValidationError
from app.documents import services
from app.documents.models import Document
from app.extensions import db
from app.workflow import queries as wfq
from app.workflow import services as wf
from tests.integration.documents.conftest import incoming_data


def _task(instance_id: int, kind: str) -> Any:
    (task,) = [t for t in wfq.open_tasks(instance_id) if t.step_kind == kind]
    return task


def _assigned(o: Any, leader_deadline: dt.date | None) -> Any:
    doc = services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data())
    data: dict[str, Any] = {"lead_department_id": o.depts["nv"]}
    if leader_deadline is not None:
        data["deadline"] = leader_deadline.isoformat()
    wf.complete_task(_task(doc.instance_id, "assign").id, o.actors["leader"], data)
    db.session.commit()
    return doc


def test_the_head_may_not_give_the_specialist_more_time_than_the_leader_gave(office: Any) -> None:
    o = office(keys=False)
    leader_deadline = clock.today() + dt.timedelta(days=10)
    doc = _assigned(o, leader_deadline)
    step = _task(doc.instance_id, "assign_person")
    late = {"specialist_id": o.accounts["specialist"].user_id,
            "deadline": (leader_deadline + dt.timedelta(days=1)).isoformat()}
    with pytest.raises(ValidationError) as refused:
        wf.complete_task(step.id, o.actors["head"], late)
    db.session.rollback()
    assert refused.value.field_errors == {
        "deadline": [f"Không được muộn hơn hạn lãnh đạo đã giao cho văn bản ({leader_deadline:%d/%m/%Y})."]}
    assert wfq.get_task(step.id).state == "open"

    # On the leader's day itself, or earlier, the step goes on.
    wf.complete_task(step.id, o.actors["head"], {**late, "deadline": leader_deadline.isoformat()})
    db.session.commit()
    assert wfq.get_task(step.id).state == "done"
    assert _task(doc.instance_id, "process").candidate_user_id == o.accounts["specialist"].user_id


def test_no_deadline_in_the_past_for_the_leader_or_the_head(office: Any) -> None:
    o = office(keys=False)
    yesterday = clock.today() - dt.timedelta(days=1)
    doc = services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data())
    db.session.commit()
    assign = _task(doc.instance_id, "assign")
    with pytest.raises(ValidationError) as refused:
        wf.complete_task(assign.id, o.actors["leader"], {"lead_department_id": o.depts["nv"],
                                                         "deadline": yesterday.isoformat()})
    db.session.rollback()
    assert "không được trước hôm nay" in refused.value.field_errors["deadline"][0]
    assert db.session.get(Document, doc.id).due_date is None  # nothing of the refused step was kept

    doc = _assigned(o, None)  # no deadline from the leader: the head may set any future one, not a past one
    step = _task(doc.instance_id, "assign_person")
    with pytest.raises(ValidationError):
        wf.complete_task(step.id, o.actors["head"], {"specialist_id": o.accounts["specialist"].user_id,
                                                     "deadline": yesterday.isoformat()})
    db.session.rollback()
    wf.complete_task(step.id, o.actors["head"], {"specialist_id": o.accounts["specialist"].user_id,
                                                 "deadline": (clock.today() + dt.timedelta(days=40)).isoformat()})
    db.session.commit()
    assert wfq.get_task(step.id).state == "done"


def test_the_task_page_shows_the_refusal_next_to_the_deadline_field(office: Any, logged_in: Any) -> None:
    o = office(keys=False)
    leader_deadline = clock.today() + dt.timedelta(days=7)
    doc = _assigned(o, leader_deadline)
    step = _task(doc.instance_id, "assign_person")
    head = logged_in(o.accounts["head"])
    resp = head.form_post(f"/tasks/{step.id}", {
        "specialist_id": str(o.accounts["specialist"].user_id),
        "deadline": f"{leader_deadline + dt.timedelta(days=3):%d/%m/%Y}"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    error = re.search(r'<span class="help-block invalid-feedback" id="qf-deadline-error">([^<]*)</span>', body)
    assert error is not None, body[-2000:]
    assert error.group(1) == f"Không được muộn hơn hạn lãnh đạo đã giao cho văn bản ({leader_deadline:%d/%m/%Y})."
    assert 'aria-invalid="true"' in body.split('id="qf-deadline"')[1].split(">")[0]
    assert wfq.get_task(step.id).state == "open"
