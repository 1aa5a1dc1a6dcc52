"""Ủy quyền end to end: a leader names a head as deputy; the leader's work appears in the deputy's inbox, the
deputy completes it through the real incoming process, and the histories show both names; refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from app.core import clock
from app.core.errors import RefusedError
from app.delegations import services as dls
from app.extensions import db
from app.notifications.models import Notification
from app.workflow import queries as wfq
from tests.support.web import csrf_token

from .conftest import open_task


def _delegate(c, deputy, *, start=None, end=None, reason="Đi công tác Hà Nội"):
    token = csrf_token(c.get("/delegations/").get_data(as_text=True))
    today = clock.today()
    return c.post("/delegations/", data={
        "csrf_token": token, "deputy_id": str(deputy.user_id), "reason": reason,
        "starts_on": (start or today).isoformat(), "ends_on": (end or today + dt.timedelta(days=5)).isoformat(),
    }, follow_redirects=True).get_data(as_text=True)


def test_the_deputy_runs_the_leaders_inbox_and_history_shows_both(office, logged_in):
    waiting = office.register(1)  # opened before the delegation: it comes to the deputy too
    leader, deputy = logged_in(office.leader), logged_in(office.head)
    assert "Ủy quyền" in leader.get("/inbox/").get_data(as_text=True)  # in the account menu
    html = _delegate(leader, office.head)
    assert "Đã ủy quyền cho Nguyễn Văn Bình" in html
    told = db.session.query(Notification).filter_by(user_id=office.head.user_id, kind="delegation").one()
    assert "Trần Văn An" in told.title
    fresh = office.register(2)  # opened during the delegation
    # The deputy is told of it as the leader is (a step opening for the leader's role while he is away).
    assert db.session.query(Notification).filter_by(user_id=office.head.user_id, kind="task_new").filter(
        Notification.body.contains("văn bản số 2")).count() == 1
    inbox = deputy.get("/inbox/").get_data(as_text=True)
    assert "Bạn đang được ủy quyền xử lý công việc của Trần Văn An" in inbox
    assert "văn bản số 1" in inbox and "văn bản số 2" in inbox and "Ủy quyền của Trần Văn An" in inbox
    task = open_task(waiting)
    page = deputy.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "theo ủy quyền của <strong>Trần Văn An</strong>" in page
    deadline = f"{clock.today() + dt.timedelta(days=30):%d/%m/%Y}"
    resp = deputy.post(f"/tasks/{task.id}", data={"csrf_token": csrf_token(page), "lead_department_id": str(office.nv),
                                                  "deadline": deadline, "direction": "Giao phòng nghiệp vụ"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1000:]
    done = wfq.get_task(task.id)
    assert done.state == "done" and done.completed_by_id == office.head.user_id
    assert done.on_behalf_of_id == office.leader.user_id
    doc_page = leader.get(f"/documents/{waiting.id}").get_data(as_text=True)
    assert "Nguyễn Văn Bình (ủy quyền của Trần Văn An)" in doc_page
    mine = leader.get("/delegations/").get_data(as_text=True)
    assert "Việc người được ủy quyền đã làm thay tôi" in mine and "văn bản số 1" in mine
    assert "Đang hiệu lực" in mine
    # The head's own step on the same document is theirs, not the leader's: no delegation mark.
    own = open_task(waiting)
    assert own.candidate_department_id == office.nv
    # Ending the delegation gives the leader's work back.
    delegation_id = db.session.execute(db.text("SELECT id FROM delegation WHERE deputy_id = :d"),
                                       {"d": office.head.user_id}).scalar_one()
    token = csrf_token(mine)
    deputy_token = csrf_token(deputy.get("/delegations/").get_data(as_text=True))
    assert deputy.post(f"/delegations/{delegation_id}/end", data={"csrf_token": deputy_token}).status_code == 404
    html = leader.post(f"/delegations/{delegation_id}/end", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "Đã kết thúc ủy quyền" in html
    after = deputy.get("/inbox/").get_data(as_text=True)
    assert "văn bản số 2" not in after and "Ủy quyền của" not in after
    assert deputy.get(f"/tasks/{open_task(fresh).id}").status_code == 404


def test_refusals_in_vietnamese(office, logged_in):
    leader = logged_in(office.leader)
    today = clock.today()
    assert "Không thể tự ủy quyền cho chính mình" in _delegate(leader, office.leader)
    assert "Thời gian ủy quyền đã qua" in _delegate(leader, office.head, start=today - dt.timedelta(days=5),
                                                    end=today - dt.timedelta(days=1))
    assert "Ngày kết thúc phải từ ngày bắt đầu trở đi" in _delegate(leader, office.head,
                                                                   start=today + dt.timedelta(days=3), end=today)
    assert "Đã ủy quyền" in _delegate(leader, office.head, start=today + dt.timedelta(days=2),
                                     end=today + dt.timedelta(days=9))
    # Not started yet: nobody told, nothing routed.
    assert db.session.query(Notification).filter_by(user_id=office.head.user_id, kind="delegation").count() == 0
    assert "trùng thời gian" in _delegate(leader, office.leader2, start=today + dt.timedelta(days=8),
                                          end=today + dt.timedelta(days=12))
    # The deputy is away at the same time: refused.
    second = logged_in(office.leader2)
    assert "Đã ủy quyền" in _delegate(second, office.specialist, start=today, end=today + dt.timedelta(days=1))
    assert "cũng ủy quyền cho người khác" in _delegate(leader, office.leader2, start=today,
                                                       end=today + dt.timedelta(days=1))
    # A specialist has nobody waiting on their steps in a leader's sense: no delegation.
    specialist = logged_in(office.specialist)
    assert "Lập ủy quyền mới" not in specialist.get("/delegations/").get_data(as_text=True)
    with pytest.raises(RefusedError, match="Chỉ lãnh đạo cơ quan hoặc trưởng đơn vị"):
        dls.create_delegation(office.agency.id, principal_id=office.specialist.user_id,
                              deputy_id=office.head.user_id, starts_on=today, ends_on=today, reason="Nghỉ phép",
                              by_user_id=office.specialist.user_id)
    db.session.rollback()
    # The job tells the deputy on the first day.
    clock.freeze(dt.datetime.combine(today + dt.timedelta(days=2), dt.time(3), tzinfo=dt.UTC))
    try:
        assert dls.notify_started() == 1
        db.session.commit()
        assert dls.notify_started() == 0
    finally:
        clock.freeze(None)
    assert db.session.query(Notification).filter_by(user_id=office.head.user_id, kind="delegation").count() == 1
