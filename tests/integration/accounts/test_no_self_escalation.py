"""An agency admin cannot give themselves (or a new or existing account) a role beyond their own entitlement.

"leader" opens every document of the agency: only an admin who is a leader, or SoICT, may grant it, whether
chosen in the form or implied by a position. Nobody adds roles to their own account.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.tenancy.models import Position, Staff
from tests.integration.accounts.test_lifecycle import _edit_data


def _roles(user_id: int) -> set[str]:
    db.session.expire_all()
    staff = db.session.scalar(select(Staff).where(Staff.user_id == user_id))
    return {r.name for r in staff.user.roles}


def test_an_agency_admin_cannot_make_themselves_leader(make_agency, make_account, logged_in):
    a = make_agency()
    admin = make_account(a.code, ["agency_admin", "specialist"])
    c = logged_in(admin)
    staff = db.session.get(Staff, admin.staff_id)
    before = _roles(admin.user_id)
    c.form_post(f"/staffadminview/edit/{admin.staff_id}", _edit_data(staff, roles=["specialist", "leader"]))
    assert _roles(admin.user_id) == before
    leader_pos = db.session.scalar(select(Position).where(Position.agency_id == a.id, Position.code == "truong"))
    staff = db.session.get(Staff, admin.staff_id)
    c.form_post(f"/staffadminview/edit/{admin.staff_id}", _edit_data(staff, position=str(leader_pos.id)))
    assert _roles(admin.user_id) == before
    # Not even a lesser role for themselves.
    staff = db.session.get(Staff, admin.staff_id)
    resp = c.form_post(f"/staffadminview/edit/{admin.staff_id}", _edit_data(staff, roles=["specialist", "clerk"]))
    assert _roles(admin.user_id) == before
    assert "Không tự cấp thêm vai trò" in c.get(resp.headers.get("Location", "/staffadminview/list/")
                                                 .split(".localhost", 1)[-1]).get_data(as_text=True)


def test_an_agency_admin_cannot_create_or_promote_a_leader(make_agency, make_account, logged_in):
    a = make_agency()
    admin = make_account(a.code, ["agency_admin"])
    other = make_account(a.code, ["specialist"])
    c = logged_in(admin)
    c.form_post("/staffadminview/add", {"full_name": "Bù Nhìn", "email": "bunhin@test.vn", "roles": ["leader"],
                                        "password": "Mk@12345678xyz"})
    assert db.session.scalar(select(Staff).where(Staff.email == "bunhin@test.vn")) is None
    leader_pos = db.session.scalar(select(Position).where(Position.agency_id == a.id, Position.code == "truong"))
    c.form_post("/staffadminview/add", {"full_name": "Bù Nhìn Hai", "email": "bunhin2@test.vn", "roles": ["clerk"],
                                        "position": str(leader_pos.id), "password": "Mk@12345678xyz"})
    assert db.session.scalar(select(Staff).where(Staff.email == "bunhin2@test.vn")) is None
    staff = db.session.get(Staff, other.staff_id)
    c.form_post(f"/staffadminview/edit/{other.staff_id}", _edit_data(staff, roles=["specialist", "leader"]))
    assert "leader" not in _roles(other.user_id)
    # Ordinary grants still work.
    staff = db.session.get(Staff, other.staff_id)
    c.form_post(f"/staffadminview/edit/{other.staff_id}", _edit_data(staff, roles=["specialist", "clerk"]))
    assert _roles(other.user_id) == {"specialist", "clerk"}


def test_an_admin_who_is_a_leader_may_appoint_another_leader(make_agency, make_account, logged_in):
    a = make_agency()
    admin = make_account(a.code, ["agency_admin", "leader"])
    other = make_account(a.code, ["specialist"])
    c = logged_in(admin)
    staff = db.session.get(Staff, other.staff_id)
    c.form_post(f"/staffadminview/edit/{other.staff_id}", _edit_data(staff, roles=["specialist", "leader"]))
    assert "leader" in _roles(other.user_id)
