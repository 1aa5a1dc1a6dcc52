"""SQL statements per request, counted on the engine through the Flask test client: the inbox, task page, task
completion and document page stay within their budgets whatever the number of tasks, files or history rows.

Each page is requested once before it is counted, as a user's second request would find it: the per-node
caches (permissions, org choices, forms) are warm; they are checked against their revision counters, which a
request reads in its first query, so the counts include that query.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, func, select

from app.documents import services as ds
from app.documents.attachments import UploadInfo
from app.extensions import db
from app.tenancy.models import Department
from app.workflow import queries as wfq
from app.workflow import services as wf
from app.workflow.info import ActorRef
from tests.support.web import csrf_token

# Completion (issue #17: <= 12), as served with task-opened notices after the commit (QLVB_NOTICES_AFTER_COMMIT,
# the default outside tests): the identity and session reads, the page's task read (the engine reuses it), the
# handler's document, the instance with its tasks, the step's writes (task, instance, engine state twice, the new
# task, the timeline) and the one INSERT of the pending notice.
BUDGETS = {"inbox": 6, "task page": 10, "completion": 12, "document page": 12}


@dataclass
class Counted:
    statements: list[str]

    def __len__(self) -> int:
        return len(self.statements)

    def report(self) -> str:
        flat = [re.sub(r"\s+", " ", s)[:160] for s in self.statements]
        return "\n".join(f"  {i + 1:>2}. {s}" for i, s in enumerate(flat))


@contextmanager
def counting() -> Iterator[Counted]:
    counted = Counted([])

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        counted.statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield counted
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def within(kind: str, counted: Counted) -> None:
    assert len(counted) <= BUDGETS[kind], f"{kind}: {len(counted)} statements (budget {BUDGETS[kind]}):\n" + \
        counted.report()


@dataclass
class Office:
    agency: Any
    dept_id: int
    clerk: Any
    leader: Any
    head: Any
    specialist: Any

    def actor(self, account: Any, role: str, department: bool = False) -> ActorRef:
        return ActorRef(account.user_id, self.agency.id, frozenset({role}), self.dept_id if department else None)


@pytest.fixture
def office(make_agency, make_account) -> Office:
    agency = make_agency()
    nv = db.session.scalar(select(Department.id).where(Department.agency_id == agency.id, Department.code == "nv"))
    return Office(agency, nv,
                  clerk=make_account(agency.code, ["clerk"], department_code="vp", name="Trần Thị Văn Thư"),
                  leader=make_account(agency.code, ["leader"], name="Phạm Văn Lãnh Đạo"),
                  head=make_account(agency.code, ["head"], department_code="nv", name="Vũ Đình Trưởng"),
                  specialist=make_account(agency.code, ["specialist"], department_code="nv", name="Đỗ Thị Chuyên"))


def register(o: Office, i: int, *, files: int = 0) -> Any:
    data = {"doc_type": "cong_van", "number_notation": f"{i}/UBND-VP", "issuer_name": "UBND tỉnh Vĩnh Phúc",
            "summary": f"Về việc chuyển đổi số, văn bản {i}", "urgency": "thuong", "confidentiality": "thuong",
            "channel": "paper", "issue_date": "2026-11-20"}
    uploads = [UploadInfo(f"phu-luc-{k}.txt", f"Phụ lục {k} của văn bản {i}\n".encode()) for k in range(files)]
    doc = ds.register_incoming(o.agency.id, actor=o.actor(o.clerk, "clerk"), data=data, files=uploads)
    db.session.commit()
    return doc


def open_task(doc: Any) -> Any:
    instance = wfq.instances_for_subject("incoming", doc.id)[-1]
    return wfq.open_tasks(instance.id)[0]


def step(o: Office, doc: Any, bpmn_id: str, data: dict[str, Any]) -> None:
    task = open_task(doc)
    assert task.bpmn_id == bpmn_id, task.bpmn_id
    who = {"assign": o.actor(o.leader, "leader"), "assign_specialist": o.actor(o.head, "head", True),
           "process": o.actor(o.specialist, "specialist", True), "confirm": o.actor(o.head, "head", True)}[bpmn_id]
    wf.complete_task(task.id, who, data, comment=data.get("comment"))
    db.session.commit()


def route_to_processing(o: Office, doc: Any, loops: int) -> None:
    """Assign the document, then ``loops`` rounds of processing sent back by the head: history rows."""
    step(o, doc, "assign", {"lead_department_id": o.dept_id, "deadline": "2030-12-30", "direction": "Xử lý"})
    step(o, doc, "assign_specialist", {"specialist_id": o.specialist.user_id, "note": "Giao xử lý"})
    for k in range(loops):
        step(o, doc, "process", {"result": f"Lần xử lý {k + 1}", "request_reply": False})
        step(o, doc, "confirm", {"decision": "send_back", "comment": f"Bổ sung lần {k + 1}"})


@pytest.mark.parametrize("n", [1, 30])
def test_inbox_page_whatever_the_number_of_open_tasks(office, logged_in, n):
    for i in range(n):
        register(office, i)
    c = logged_in(office.leader)
    page = c.get("/inbox/")
    assert page.status_code == 200
    with counting() as counted:
        page = c.get("/inbox/")
    assert page.status_code == 200 and page.get_data(as_text=True).count('href="/tasks/') >= min(n, 30)
    within("inbox", counted)


@pytest.mark.parametrize("n", [1, 30])
def test_task_page_whatever_the_number_of_files_and_history_rows(office, logged_in, n):
    doc = register(office, 1, files=n)
    route_to_processing(office, doc, loops=n // 2)
    task = open_task(doc)
    c = logged_in(office.specialist)
    assert c.get(f"/tasks/{task.id}").status_code == 200
    with counting() as counted:
        page = c.get(f"/tasks/{task.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Hoàn thành" in html and f"phu-luc-{n - 1}.txt" in html
    within("task page", counted)


@pytest.mark.parametrize("n", [1, 30])
def test_task_completion_whatever_the_number_of_files_and_history_rows(app, office, logged_in, n):
    from app.jobs import bodies
    from app.notifications.models import Notification

    app.config["QLVB_NOTICES_AFTER_COMMIT"] = True
    try:
        _complete_and_count(office, logged_in, n)
    finally:
        app.config["QLVB_NOTICES_AFTER_COMMIT"] = False
    # The head is told by the job, not by the request: nothing before it runs, then once for each of the two steps.
    def told() -> int:
        return db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == office.head.user_id, Notification.title == "Công việc mới: Xác nhận kết quả xử lý"))
    before = told()
    assert bodies.announce_notices() >= 1
    assert before == 0 and told() == 2 and bodies.announce_notices() == 0


def _complete_and_count(office, logged_in, n):
    warm, doc = register(office, 1), register(office, 2, files=n)
    route_to_processing(office, warm, loops=0)
    route_to_processing(office, doc, loops=n // 2)
    c = logged_in(office.specialist)
    for target, counted_run in ((warm, False), (doc, True)):
        task = open_task(target)
        token = csrf_token(c.get(f"/tasks/{task.id}").get_data(as_text=True))
        form = {"result": "Đã xử lý xong", "csrf_token": token}
        if counted_run:
            with counting() as counted:
                resp = c.post(f"/tasks/{task.id}", data=form)
        else:
            resp = c.post(f"/tasks/{task.id}", data=form)
        assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
        assert wfq.get_task(task.id).state == "done"
    assert open_task(doc).bpmn_id == "confirm"
    within("completion", counted)


@pytest.mark.parametrize("n", [1, 30])
def test_document_page_whatever_the_number_of_files_and_history_rows(office, logged_in, n):
    doc = register(office, 1, files=n)
    route_to_processing(office, doc, loops=n // 2)
    c = logged_in(office.leader)
    assert c.get(f"/documents/{doc.id}").status_code == 200
    with counting() as counted:
        page = c.get(f"/documents/{doc.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f"phu-luc-{n - 1}.txt" in html and "Đỗ Thị Chuyên" in html
    within("document page", counted)


def test_a_published_form_and_a_new_department_are_seen_at_once(office, logged_in):
    """The caches follow their revision counters: a change committed elsewhere shows on the next request."""
    from app.designer.forms import effective_source, publish_form
    from app.tenancy.models import Department as Dept

    doc = register(office, 1)
    task = open_task(doc)
    c = logged_in(office.leader)
    assert "Phòng Mới Lập" not in c.get(f"/tasks/{task.id}").get_data(as_text=True)
    db.session.add(Dept(agency_id=office.agency.id, code="moi", name="Phòng Mới Lập", sort_order=99))
    db.session.commit()
    assert "Phòng Mới Lập" in c.get(f"/tasks/{task.id}").get_data(as_text=True)

    from pathlib import Path

    from flask import current_app

    forms_dir = Path(current_app.config["QLVB_FORMS_DIR"])
    source = effective_source(office.agency.id, task.form_key, forms_dir)
    changed = source.yaml_text.replace("Đơn vị chủ trì", "Đơn vị chủ trì xử lý (bản mới)", 1)
    assert changed != source.yaml_text
    publish_form(office.agency.id, task.form_key, changed, "Đổi nhãn", by_user_id=None, forms_dir=forms_dir)
    db.session.commit()
    assert "Đơn vị chủ trì xử lý (bản mới)" in c.get(f"/tasks/{task.id}").get_data(as_text=True)
