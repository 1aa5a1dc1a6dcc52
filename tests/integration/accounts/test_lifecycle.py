"""Account lifecycle through the admin pages: revoke stops login at once and flags open tasks; moves make
roles follow the position; NFD input is stored NFC."""

import unicodedata

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select

from app.accounts import services
from app.accounts.models import AuditEvent, TaskReassignment
from app.extensions import db
from app.tenancy.models import Position, Staff


def _edit_data(staff, **changes):
    data = {"full_name": staff.full_name, "email": staff.email, "phone": staff.phone or "",
            "department": str(staff.department_id or ""), "position": str(staff.position_id or ""),
            "roles": [r.name for r in staff.user.roles if r.name != "agency_admin"], "active": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v not in (None, "")}


def test_revoking_stops_an_open_session_and_flags_open_tasks(make_agency, make_account, logged_in, client_for,
                                                            open_task_for):
    a = make_agency()
    admin = make_account(a.code, ["agency_admin"])
    leaving = make_account(a.code, ["specialist"], department_code="nv", name="Phạm Thị Nghỉ")
    claimed = open_task_for(a.id, leaving.user_id, claimed=True)
    named = open_task_for(a.id, leaving.user_id, claimed=False)
    session = logged_in(leaving)
    assert session.get("/account/password").status_code == 200
    admin_c = logged_in(admin)
    staff = db.session.get(Staff, leaving.staff_id)
    data = _edit_data(staff)
    del data["active"]  # unticked checkbox = revoke
    resp = admin_c.form_post(f"/staffadminview/edit/{leaving.staff_id}", data)
    assert resp.status_code == 302
    # The already-open session ends at the next request, and a new login is refused.
    resp = session.get("/inbox/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    login = client_for(leaving.host).login(leaving.email, leaving.password)
    assert "/login" in login.headers["Location"]
    db.session.expire_all()
    staff = db.session.get(Staff, leaving.staff_id)
    assert staff is not None and not staff.active and staff.revoked_at is not None
    assert not db.session.get(User, leaving.user_id).active
    flagged = {r.human_task_id for r in db.session.scalars(select(TaskReassignment))}
    assert {claimed, named} <= flagged
    page = admin_c.get("/reassign/").get_data(as_text=True)
    assert "Phạm Thị Nghỉ" in page and "Xử lý văn bản thử" in page
    kinds = set(db.session.scalars(select(AuditEvent.kind).where(AuditEvent.target_id == str(leaving.staff_id))))
    assert "account_revoked" in kinds


def test_moving_position_re_derives_roles(make_agency, make_account, app):
    a = make_agency()
    acc = make_account(a.code, ["specialist"], department_code="nv")
    leader_pos = db.session.scalar(select(Position).where(Position.agency_id == a.id, Position.code == "truong"))
    spec_pos = db.session.scalar(select(Position).where(Position.agency_id == a.id, Position.code == "cv"))
    services.change_account(acc.staff_id, grantable={"specialist", "leader", "clerk", "head", "legal"},
                            position_id=leader_pos.id, department_id=None)
    db.session.commit()
    roles = {r.name for r in db.session.get(User, acc.user_id).roles}
    assert "leader" in roles and "specialist" in roles
    services.change_account(acc.staff_id, grantable={"specialist", "leader", "clerk", "head", "legal"},
                            position_id=spec_pos.id, department_id=None)
    db.session.commit()
    roles = {r.name for r in db.session.get(User, acc.user_id).roles}
    assert "leader" not in roles and "specialist" in roles
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "roles_changed",
                                                         AuditEvent.target_id == str(acc.user_id))).all()
    assert any("leader" in e.detail["added"] for e in events)
    assert any("leader" in e.detail["removed"] for e in events)


def test_moving_to_another_agency_drops_old_roles_and_flags_tasks(make_agency, make_account, open_task_for):
    a, b = make_agency(), make_agency()
    acc = make_account(a.code, ["clerk", "legal"], department_code="vp")
    task = open_task_for(a.id, acc.user_id)
    services.change_account(acc.staff_id, grantable={"clerk", "legal", "specialist"}, agency_id=b.id,
                            roles=["specialist"], department_id=None, position_id=None)
    db.session.commit()
    staff = db.session.get(Staff, acc.staff_id)
    assert staff.agency_id == b.id and staff.department_id is None
    assert {r.name for r in staff.user.roles} == {"specialist"}
    assert db.session.get(TaskReassignment, task) is not None


def test_nfd_name_from_the_staff_form_is_stored_nfc(make_agency, make_account, logged_in):
    a = make_agency()
    admin = make_account(a.code, ["agency_admin"])
    c = logged_in(admin)
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết")
    assert nfd != "Nguyễn Thị Ánh Tuyết"
    resp = c.form_post("/staffadminview/add", {"full_name": nfd, "email": "tuyet.nfd@test.vn", "roles": ["clerk"],
                                               "password": "Hoa-sen-2026!x"})
    assert resp.status_code == 302
    staff = db.session.scalar(select(Staff).where(Staff.email == "tuyet.nfd@test.vn"))
    assert staff.full_name == "Nguyễn Thị Ánh Tuyết"
    assert unicodedata.is_normalized("NFC", staff.user.first_name + staff.user.last_name)


def test_weak_initial_password_is_refused_with_the_rules(make_agency, make_account, logged_in):
    a = make_agency()
    c = logged_in(make_account(a.code, ["agency_admin"]))
    c.form_post("/staffadminview/add", {"full_name": "Lê Văn Yếu", "email": "yeu@test.vn", "roles": ["clerk"],
                                        "password": "abcdefgh"})
    assert db.session.scalar(select(Staff).where(Staff.email == "yeu@test.vn")) is None
    body = c.get("/staffadminview/list/").get_data(as_text=True)
    assert "Mật khẩu ban đầu chưa đạt yêu cầu" in body
