"""Writes that name a person, unit or document of another agency change nothing (issue #16, item 5).

Each refusal gives the same answer for an id that does not exist and one that is not the caller's, so errors
never tell which ids belong to which agency. The walk posts every POST route of the staff pages with another
agency's ids in the URL and in every id-like field, and counts that agency's rows before and after each post.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from app.assignments import services as assignments
from app.assignments.models import WorkItem, WorkLink
from app.core import clock
from app.core.errors import ValidationError
from app.documents import services as documents
from app.extensions import Model, db
from app.notifications.models import Notification
from app.opinions import services as opinions
from app.opinions.models import OpinionRequest, OpinionReviewer
from app.tenancy.models import Department, Staff
from app.workflow.info import ActorRef
from tests.integration.documents.conftest import incoming_data
from tests.integration.security.test_route_walk import _fab_tables, _urls

OPINION_ERROR = "Không tìm thấy lãnh đạo được chọn của"
LINK_ERROR = "Không tìm thấy văn bản hoặc công việc liên quan trong cơ quan"


def _actor(account: Any, agency_id: int, roles: set[str]) -> ActorRef:
    staff = db.session.get(Staff, account.staff_id)
    return ActorRef(user_id=account.user_id, agency_id=agency_id, roles=frozenset(roles),
                    department_id=staff.department_id)


@pytest.fixture
def two(make_agency, make_account):
    a, b, c = make_agency(name="Sở A"), make_agency(name="Sở B"), make_agency(name="Sở C")
    acc = {
        "a_specialist": make_account(a.code, ["specialist"], department_code="nv"),
        "a_leader": make_account(a.code, ["leader"]),
        "a_clerk": make_account(a.code, ["clerk"], department_code="vp"),
        "b_leader": make_account(b.code, ["leader"], name="Lãnh Đạo B"),
        "b_specialist": make_account(b.code, ["specialist"], department_code="nv"),
        "b_clerk": make_account(b.code, ["clerk"], department_code="vp"),
        "c_leader": make_account(c.code, ["leader"]),
        "b_all": make_account(b.code, ["agency_admin", "clerk", "leader", "head", "specialist"],
                              department_code="nv"),
    }
    return a, b, c, acc


def _counts() -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count()).select_from(OpinionRequest)),
            db.session.scalar(select(func.count()).select_from(OpinionReviewer)),
            db.session.scalar(select(func.count()).select_from(Notification)))


def test_opinion_requests_reach_only_the_leaders_the_form_offers(two, logged_in):
    a, b, _c, acc = two
    actor = _actor(acc["a_specialist"], a.id, {"specialist"})
    deadline = clock.today() + dt.timedelta(days=3)
    messages = set()
    for uid in (acc["b_specialist"].user_id, acc["b_clerk"].user_id, acc["c_leader"].user_id, 987654321, 9**40):
        before = _counts()
        with pytest.raises(ValidationError) as info:
            opinions.create_opinion_request(actor, title="Xin ý kiến", deadline=deadline,
                                            external_reviewers=[(b.code, uid)])
        db.session.rollback()
        (message,) = info.value.field_errors["external_reviewers"]
        messages.add(message)
        assert _counts() == before
    assert messages == {f"{OPINION_ERROR} Sở B"}  # one answer for absent, not a leader, another agency's
    # Over HTTP too: the crafted value is refused, and nothing lands in the specialist's inbox.
    c_ = logged_in(acc["a_specialist"])
    before = _counts()
    resp = c_.form_post("/opinions/new", {"title": "Xin ý kiến", "deadline": deadline.strftime("%d/%m/%Y"),
                                          "external_reviewers": [f"user:{b.code}:{acc['b_specialist'].user_id}"]})
    assert resp.status_code == 200 and OPINION_ERROR in resp.get_data(as_text=True)
    assert _counts() == before
    # The leaders the form offers are accepted.
    info = opinions.create_opinion_request(actor, title="Xin ý kiến", deadline=deadline,
                                           external_reviewers=[(b.code, acc["b_leader"].user_id)])
    db.session.commit()
    assert info.id


def test_an_assignment_cannot_link_another_agencys_document(two):
    a, b, _, acc = two
    b_clerk = _actor(acc["b_clerk"], b.id, {"clerk"})
    theirs = documents.register_incoming(b.id, actor=b_clerk, data=incoming_data())
    ours = documents.register_incoming(a.id, actor=_actor(acc["a_clerk"], a.id, {"clerk"}), data=incoming_data())
    db.session.commit()
    leader = _actor(acc["a_leader"], a.id, {"leader"})
    deadline = clock.today() + dt.timedelta(days=5)
    lead = acc["a_specialist"].user_id
    links_before = db.session.scalar(select(func.count()).select_from(WorkLink))
    answers = set()
    for link in (("incoming", theirs.id), ("incoming", 10**12), ("outgoing", ours.id), ("incoming", 2**70)):
        with pytest.raises(ValidationError) as info:
            assignments.create_work_item(leader, title="Rà soát", deadline=deadline, lead_user_id=lead, links=[link])
        db.session.rollback()
        answers.add(tuple(info.value.field_errors["links"]))
    assert answers == {(LINK_ERROR,)}
    assert db.session.scalar(select(func.count()).select_from(WorkLink)) == links_before
    item = assignments.create_work_item(leader, title="Rà soát", deadline=deadline, lead_user_id=lead,
                                        links=[("incoming", ours.id)])
    db.session.commit()
    assert [(link.subject_type, link.subject_id) for link in db.session.get(WorkItem, item.id).links] == [
        ("incoming", ours.id)]


# --- the walk ------------------------------------------------------------------------------------------------------

def _fingerprint(agency_id: int, user_ids: list[int]) -> dict[str, int]:
    """Rows of the agency in every table with agency_id; rows naming its people in tables with a user column."""
    out: dict[str, int] = {}
    for table in Model.metadata.sorted_tables:
        if table.name in ("audit_event", "account_security", "job_mark") or table.name.startswith("ab_"):
            continue  # logs of the attempts themselves, and login bookkeeping
        if "agency_id" in table.c:
            out[table.name] = db.session.scalar(select(func.count()).select_from(table)
                                                .where(table.c.agency_id == agency_id))
        for column in ("user_id", "ref_id", "assignee_id"):
            if column in table.c:
                out[f"{table.name}.{column}"] = db.session.scalar(select(func.count()).select_from(table)
                                                                  .where(table.c[column].in_(user_ids)))
    return out


def test_posts_naming_another_agencys_ids_change_nothing_there(app, two, logged_in):
    a, _b, _, acc = two
    a_clerk = _actor(acc["a_clerk"], a.id, {"clerk"})
    doc = documents.register_incoming(a.id, actor=a_clerk, data=incoming_data())
    leader = _actor(acc["a_leader"], a.id, {"leader"})
    item = assignments.create_work_item(leader, title="Việc của A", deadline=clock.today() + dt.timedelta(days=5),
                                        lead_user_id=acc["a_specialist"].user_id, links=[("incoming", doc.id)])
    opinions.create_opinion_request(_actor(acc["a_specialist"], a.id, {"specialist"}), title="Ý kiến của A",
                                    deadline=clock.today() + dt.timedelta(days=3),
                                    reviewer_user_ids=[acc["a_leader"].user_id])
    db.session.commit()
    a_users = [x.user_id for k, x in acc.items() if k.startswith("a_")]
    a_dep = db.session.scalar(select(Department.id).where(Department.agency_id == a.id, Department.code == "nv"))
    ids = {"document": [doc.id], "work_item": [item.id], "staff": [acc["a_specialist"].staff_id],
           "department": [a_dep]}
    ids.update({t: v for t, v in _a_ids(a.id).items() if t not in ids})
    fab_tables = _fab_tables()
    c = logged_in(acc["b_all"])
    page = c.get("/account/password").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    uid, deadline = str(a_users[0]), (clock.today() + dt.timedelta(days=4)).strftime("%d/%m/%Y")
    form = {"csrf_token": token, "title": "Bị sửa", "name": "Bị sửa", "full_name": "Bị sửa", "body": "Bị sửa",
            "content": "Bị sửa", "deadline": deadline, "comment": "Bị sửa", "note": "Bị sửa",
            "reviewer_user_ids": uid, "participants": uid, "lead_user_id": uid, "coordinating_user_ids": uid,
            "user_id": uid, "assignee_id": uid, "specialist_id": uid, "lead_department_id": str(a_dep),
            "department_id": str(a_dep), "coordinating_department_ids": str(a_dep), "document_id": str(doc.id),
            "link": f"incoming:{doc.id}", "subject_type": "incoming", "subject_id": str(doc.id),
            "task_id": "1", "percent": "50", "decision": "approve", "answer": "agree"}
    problems, walked = [], 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        module = getattr(getattr(view, "__self__", None), "__module__", "") or getattr(view, "__module__", "")
        if "POST" not in rule.methods or not module.startswith("app.web"):
            continue
        for url in _urls(rule, ids, fab_tables)[:4]:
            before = _fingerprint(a.id, a_users)
            resp = c.post(url, data=form)
            walked += 1
            if resp.status_code >= 500:
                problems.append(f"POST {url}: {resp.status_code}")
            db.session.expire_all()
            after = _fingerprint(a.id, a_users)
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            if changed:
                problems.append(f"POST {url} changed {changed}")
    assert walked > 20
    assert not problems, "\n".join(problems)


def _b_form(token: str, acc: dict[str, Any], b_dep: int, b_doc: int) -> dict[str, Any]:
    """A post that would succeed from agency B: B's own people, unit and document in every id field."""
    uid = str(acc["b_specialist"].user_id)
    return {"csrf_token": token, "title": "Việc của B", "name": "Việc của B", "body": "Nội dung", "content": "Nội dung",
            "deadline": (clock.today() + dt.timedelta(days=4)).strftime("%d/%m/%Y"), "comment": "Ghi chú",
            "reviewer_user_ids": uid, "participants": uid, "lead_user_id": uid, "coordinating_user_ids": uid,
            "lead_department_id": str(b_dep), "coordinating_department_ids": str(b_dep),
            "link": f"incoming:{b_doc}"}


def test_new_items_of_one_agency_cannot_name_another_agencys_ids_one_field_at_a_time(app, two, logged_in):
    """Each form that creates something is posted with B's valid ids, except one field holding A's id."""
    a, b, _, acc = two
    doc_a = documents.register_incoming(a.id, actor=_actor(acc["a_clerk"], a.id, {"clerk"}), data=incoming_data())
    doc_b = documents.register_incoming(b.id, actor=_actor(acc["b_clerk"], b.id, {"clerk"}), data=incoming_data())
    db.session.commit()
    a_users = [x.user_id for k, x in acc.items() if k.startswith("a_")]
    a_dep = db.session.scalar(select(Department.id).where(Department.agency_id == a.id, Department.code == "nv"))
    b_dep = db.session.scalar(select(Department.id).where(Department.agency_id == b.id, Department.code == "nv"))
    a_uid = str(acc["a_specialist"].user_id)  # not a leader: not among the people an opinion request may ask
    hostile = {"reviewer_user_ids": a_uid, "participants": a_uid, "lead_user_id": a_uid,
               "coordinating_user_ids": a_uid, "lead_department_id": str(a_dep),
               "coordinating_department_ids": str(a_dep), "link": f"incoming:{doc_a.id}",
               "external_reviewers": f"user:{a.code}:{a_uid}"}
    c = logged_in(acc["b_all"])
    page = c.get("/account/password").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    problems, walked = [], 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        module = getattr(view, "__module__", "")
        if "POST" not in rule.methods or rule.arguments or not module.startswith("app.web"):
            continue
        for field, value in hostile.items():
            form = {**_b_form(token, acc, b_dep, doc_b.id), field: value}
            before = _fingerprint(a.id, a_users)
            resp = c.post(rule.rule, data=form)
            walked += 1
            if resp.status_code >= 500:
                problems.append(f"POST {rule.rule} [{field}]: {resp.status_code}")
            db.session.expire_all()
            after = _fingerprint(a.id, a_users)
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            if changed:
                problems.append(f"POST {rule.rule} [{field}={value}] changed {changed}")
            links = db.session.scalar(select(func.count()).select_from(WorkLink).where(
                WorkLink.subject_type == "incoming", WorkLink.subject_id == doc_a.id))
            if links:
                problems.append(f"POST {rule.rule} [{field}={value}] linked A's document")
    assert walked > 20
    assert not problems, "\n".join(problems)
    # Control: the same forms with only B's ids do create B's items (so each refusal above was the hostile field).
    for path, model in (("/assignments/new", WorkItem), ("/opinions/new", OpinionRequest)):
        count = db.session.scalar(select(func.count()).select_from(model).where(model.agency_id == b.id))
        resp = c.post(path, data=_b_form(token, acc, b_dep, doc_b.id))
        assert resp.status_code == 302, (path, resp.get_data(as_text=True)[-600:])
        db.session.expire_all()
        assert db.session.scalar(select(func.count()).select_from(model).where(model.agency_id == b.id)) == count + 1


def _a_ids(agency_id: int) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for table in Model.metadata.sorted_tables:
        if "agency_id" in table.c and "id" in table.c:
            rows = db.session.execute(select(table.c.id).where(table.c.agency_id == agency_id)
                                      .order_by(table.c.id.desc()).limit(2)).scalars().all()
            if rows:
                out[table.name] = list(rows)
    return out
