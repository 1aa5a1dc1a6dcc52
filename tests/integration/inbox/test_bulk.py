"""Bulk actions of the inbox: assign several documents to one department (with a partial failure), claim several,
mark read; CSRF on each."""

from __future__ import annotations

from app.documents import queries as dq
from app.extensions import db
from app.notifications.models import Notification
from app.workflow import queries as wfq
from app.workflow import services as wf
from tests.support.web import csrf_token

from .conftest import open_task


def _post(c, data):
    token = csrf_token(c.get("/inbox/").get_data(as_text=True))
    return c.post("/inbox/bulk", data={**data, "csrf_token": token}, follow_redirects=True)


def test_assign_several_documents_to_one_department_reports_each(office, logged_in):
    docs = [office.register(i) for i in range(1, 5)]
    tasks = [open_task(d) for d in docs]
    # Another leader took the last one before: it cannot be assigned from this inbox.
    wf.claim_task(tasks[3].id, office.actor(office.leader2, "leader"))
    db.session.commit()
    c = logged_in(office.leader)
    page = c.get("/inbox/").get_data(as_text=True)
    assert 'aria-label="Chọn công việc' in page and "Giao văn bản" in page
    resp = _post(c, {"action": "assign", "department_id": str(office.nv),
                     "task_id": [str(t.id) for t in tasks]})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Đã giao 3 văn bản; 1 văn bản không giao được: Về việc chuyển đổi số, văn bản số 4" in html
    for doc, task in zip(docs[:3], tasks[:3], strict=True):
        assert wfq.get_task(task.id).state == "done"
        assert dq.get_document(office.agency.id, doc.id, office.actor(office.leader, "leader")).lead_department_id \
            == office.nv
        assert open_task(doc).step_kind == "assign_person"  # the route moved on, as from the task's own page
    assert wfq.get_task(tasks[3].id).state == "open"


def test_assign_refuses_steps_that_are_not_assignments_and_bad_departments(office, logged_in):
    doc = office.register(1)
    wf.complete_task(open_task(doc).id, office.actor(office.leader, "leader"), {"lead_department_id": office.nv})
    db.session.commit()
    head_task = open_task(doc)
    c = logged_in(office.head)
    html = _post(c, {"action": "assign", "department_id": str(office.vp),
                     "task_id": str(head_task.id)}).get_data(as_text=True)
    assert "Đã giao 0 văn bản; 1 văn bản không giao được" in html and "không giao hàng loạt được" in html
    assert wfq.get_task(head_task.id).state == "open"
    html = _post(c, {"action": "assign", "department_id": "999999",
                     "task_id": str(head_task.id)}).get_data(as_text=True)
    assert "Vui lòng chọn đơn vị chủ trì" in html
    assert _post(c, {"action": "explode", "task_id": "1"}).status_code == 400
    assert _post(c, {"action": "read", "task_id": "x"}).status_code == 400


def test_claim_several_and_mark_read(office, logged_in):
    tasks = [open_task(office.register(i)) for i in range(1, 4)]
    c = logged_in(office.leader2)
    assert c.get("/inbox/").get_data(as_text=True).count("Mới</span>") == 3
    html = _post(c, {"action": "claim", "task_id": [str(t.id) for t in tasks[:2]]}).get_data(as_text=True)
    assert "Đã nhận xử lý 2 công việc." in html
    leader2 = office.actor(office.leader2, "leader")
    assert {t.id for t in wfq.inbox(leader2, "in_progress")} == {tasks[0].id, tasks[1].id}
    unread = db.session.query(Notification).filter_by(user_id=office.leader2.user_id, read_at=None).count()
    html = _post(c, {"action": "read", "task_id": [str(t.id) for t in tasks]}).get_data(as_text=True)
    assert "Đã đánh dấu đã đọc 3 công việc." in html
    assert all(t.read for t in wfq.inbox(leader2, "todo")) and all(t.read for t in wfq.inbox(leader2, "in_progress"))
    assert "Mới</span>" not in c.get("/inbox/?tab=in_progress").get_data(as_text=True)
    left = db.session.query(Notification).filter_by(user_id=office.leader2.user_id, read_at=None).count()
    assert left <= unread
    # The first leader's inbox: one task left in the pool, still new to them.
    first = office.actor(office.leader, "leader")
    assert [(t.id, t.read) for t in wfq.inbox(first, "todo")] == [(tasks[2].id, False)]


def test_bulk_needs_the_csrf_token(office, logged_in):
    task = open_task(office.register(1))
    c = logged_in(office.leader)
    assert c.post("/inbox/bulk", data={"action": "read", "task_id": str(task.id)}).status_code == 400
    assert wfq.inbox(office.actor(office.leader, "leader"), "todo")[0].read is False
