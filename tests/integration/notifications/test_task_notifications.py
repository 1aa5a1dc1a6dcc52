"""Workflow events become notifications for exactly the people concerned; reminders fire once."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from sqlalchemy import select, update

from app.core import clock
from app.extensions import db
from app.notifications import queries, services
from app.notifications.models import Notification
from app.notifications.reminders import send_due_reminders
from app.workflow import services as wf
from app.workflow.models import HumanTask
from tests.support.ops import publish_template


def _open_task(instance_id: int) -> Any:
    rows = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open"))
    (row,) = rows.all()
    return row


def _titles(user_id: int, agency_id: int) -> list[str]:
    return [n.title for n in queries.notifications_for(user_id, agency_id)]


def _start(office: Any, subject_id: int = 1, subject_type: str = "test") -> Any:
    publish_template(office.agency.id, "incoming")
    inst = wf.start_instance(office.agency.id, "incoming", subject_type=subject_type, subject_id=subject_id, data={},
                             actor=office["clerk"].actor)
    db.session.commit()
    return inst


def test_new_task_notifies_the_lane_role_in_the_chosen_department(office: Any) -> None:
    aid = office.agency.id
    inst = _start(office)
    assert _titles(office["clerk"].user_id, aid) == ["Công việc mới: Vào sổ văn bản đến"]
    assert _titles(office["leader"].user_id, aid) == []
    register = _open_task(inst.id)
    note = queries.notifications_for(office["clerk"].user_id, aid)[0]
    assert note.link == f"/tasks/{register.id}" and note.kind == "task_new" and not note.urgent
    assert "Hạn xử lý: 17:00 ngày" in note.body

    wf.complete_task(register.id, office["clerk"].actor, {"summary": "Công văn"})
    assign = _open_task(inst.id)
    wf.complete_task(assign.id, office["leader"].actor, {"lead_department_id": office.dept_nv})
    db.session.commit()
    assert _titles(office["leader"].user_id, aid) == ["Công việc mới: Phân công xử lý"]
    assert _titles(office["head_nv"].user_id, aid) == ["Công việc mới: Giao chuyên viên xử lý"]
    assert _titles(office["head_vp"].user_id, aid) == []  # head of the other department
    assert _titles(office["spec_a"].user_id, aid) == []


def test_sent_back_work_is_announced_as_returned_with_the_reason(office: Any) -> None:
    aid = office.agency.id
    inst = _start(office)
    a = {k: p.actor for k, p in office.people.items()}
    wf.complete_task(_open_task(inst.id).id, a["clerk"], {"summary": "x"})
    wf.complete_task(_open_task(inst.id).id, a["leader"], {"lead_department_id": office.dept_nv})
    wf.complete_task(_open_task(inst.id).id, a["head_nv"], {"specialist_id": office["spec_a"].user_id})
    wf.complete_task(_open_task(inst.id).id, a["spec_a"], {"result": "Đã xử lý", "request_reply": False})
    wf.complete_task(_open_task(inst.id).id, a["head_nv"], {"decision": "send_back"}, comment="Bổ sung số liệu")
    db.session.commit()
    latest = queries.notifications_for(office["spec_a"].user_id, aid)[0]
    assert latest.kind == "task_returned"
    assert latest.title == "Bị trả lại: Xử lý văn bản" or latest.title.startswith("Bị trả lại: ")
    assert "Lê Văn Trưởng Phòng trả lại" in latest.body and "Bổ sung số liệu" in latest.body
    assert unicodedata.is_normalized("NFC", latest.body)


def test_urgent_document_is_flagged_at_once(office: Any) -> None:
    from app.documents.models import Document

    doc = Document(agency_id=office.agency.id, direction="incoming", status="registered", urgency="hoa_toc",
                   summary="Về việc ứng phó bão số 3", number_notation="15/UBND-NN")
    db.session.add(doc)
    db.session.commit()
    _start(office, subject_id=doc.id, subject_type="incoming")
    note = queries.notifications_for(office["clerk"].user_id, office.agency.id)[0]
    assert note.urgent
    assert note.title == "Hỏa tốc – Công việc mới: Vào sổ văn bản đến"
    assert note.body.startswith("Văn bản đến số 15/UBND-NN: Về việc ứng phó bão số 3")


def test_deadline_reminders_fire_once_before_and_after_the_deadline(office: Any) -> None:
    aid = office.agency.id
    inst = _start(office)
    wf.complete_task(_open_task(inst.id).id, office["clerk"].actor, {"summary": "x"})
    db.session.commit()
    assign = _open_task(inst.id)
    due = clock.now().replace(microsecond=0) + dt.timedelta(days=40)
    db.session.execute(update(HumanTask).where(HumanTask.id == assign.id).values(due_at=due))
    db.session.commit()
    leader = office["leader"].user_id

    assert send_due_reminders(now=due - dt.timedelta(days=20)) >= 0
    assert "Sắp đến hạn: Phân công xử lý" not in _titles(leader, aid)  # not yet within a working day
    send_due_reminders(now=due - dt.timedelta(hours=2))
    db.session.commit()
    assert _titles(leader, aid).count("Sắp đến hạn: Phân công xử lý") == 1
    send_due_reminders(now=due + dt.timedelta(seconds=1))
    send_due_reminders(now=due + dt.timedelta(seconds=2))
    db.session.commit()
    titles = _titles(leader, aid)
    assert titles.count("Quá hạn: Phân công xử lý") == 1 and titles.count("Sắp đến hạn: Phân công xử lý") == 1
    overdue = queries.notifications_for(leader, aid)[0]
    assert overdue.kind == "overdue" and "Đã quá hạn xử lý" in overdue.body
    assert office["clerk"].user_id not in set(db.session.scalars(
        select(Notification.user_id).where(Notification.dedupe_key == f"task:{assign.id}:overdue")))


def test_mark_read_and_mark_all_read_touch_only_my_notifications(office: Any) -> None:
    aid = office.agency.id
    me, other = office["spec_a"].user_id, office["spec_b"].user_id
    services.notify([me, other], agency_id=aid, kind="calendar", title="Thông báo thử")
    services.notify([me], agency_id=aid, kind="calendar", title="Thông báo thứ hai")
    db.session.commit()
    assert queries.unread_count(me, aid) == 2
    first = queries.notifications_for(me, aid)[-1]
    services.mark_read(first.id, me)
    assert queries.unread_count(me, aid) == 1
    assert services.mark_all_read(me, aid) == 1
    db.session.commit()
    assert queries.unread_count(me, aid) == 0 and queries.unread_count(other, aid) == 1
