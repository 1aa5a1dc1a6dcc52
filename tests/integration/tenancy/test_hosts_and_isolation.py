"""Host-based tenancy and cross-agency isolation of the org admin, through HTTP with real logins."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.tenancy.models import Department, Staff


def test_login_page_is_vietnamese_on_an_agency_host(client_for):
    resp = client_for("isotttt.localhost").get("/login/")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Đăng nhập" in body and "Thư điện tử công vụ" in body and "Sở Thông tin và Truyền thông" in body


def test_production_domain_resolves_too(client_for):
    resp = client_for("isotttt.vinhphuc.gov.vn").get("/login/")
    assert resp.status_code == 200


def test_unknown_host_gets_a_clear_page_not_a_crash(client_for):
    resp = client_for("ikhongco.localhost").get("/login/")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 404
    assert "Không tìm thấy cơ quan" in body and "ikhongco.localhost" in body


def test_a_user_cannot_log_in_on_another_agencys_host(make_agency, make_account, client_for):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    resp = client_for("isotttt.localhost").login(acc.email, acc.password)
    assert "/login" in resp.headers["Location"]
    home = client_for(acc.host)
    assert home.login(acc.email, acc.password).status_code == 302
    assert "Xin chào" in home.get("/").get_data(as_text=True)


@pytest.fixture
def two_admins(make_agency, make_account):
    a, b = make_agency(), make_agency()
    return a, b, make_account(a.code, ["agency_admin"]), make_account(b.code, ["agency_admin"])


def test_agency_admin_lists_only_own_departments(two_admins, logged_in):
    _, b, admin_a, _ = two_admins
    dep_b = db.session.scalar(select(Department).where(Department.agency_id == b.id, Department.code == "nv"))
    dep_b.name = "Phòng Bí mật của B"
    db.session.commit()
    c = logged_in(admin_a)
    body = c.get("/departmentadminview/list/").get_data(as_text=True)
    assert "Phòng Nghiệp vụ" in body
    assert "Phòng Bí mật của B" not in body


def test_crafted_ids_of_another_agency_are_refused(two_admins, logged_in):
    _, b, admin_a, _ = two_admins
    dep_b = db.session.scalar(select(Department).where(Department.agency_id == b.id, Department.code == "nv"))
    dep_b_id, dep_b_name = dep_b.id, dep_b.name
    c = logged_in(admin_a)
    assert c.get(f"/departmentadminview/show/{dep_b_id}").status_code == 404
    assert c.get(f"/departmentadminview/edit/{dep_b_id}").status_code == 404
    page = c.get("/departmentadminview/add").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = c.post(f"/departmentadminview/edit/{dep_b_id}",
                  data={"csrf_token": token, "code": "nv", "name": "Bị sửa", "sort_order": "0"})
    assert resp.status_code == 404
    resp = c.post(f"/departmentadminview/delete/{dep_b_id}", data={"csrf_token": token})
    assert resp.status_code == 404
    db.session.expire_all()
    again = db.session.get(Department, dep_b_id)
    assert again is not None and again.name == dep_b_name and again.agency_id == b.id


def test_crafted_parent_from_another_agency_is_refused_on_add(two_admins, logged_in):
    a, b, admin_a, _ = two_admins
    dep_b = db.session.scalar(select(Department).where(Department.agency_id == b.id, Department.code == "vp"))
    c = logged_in(admin_a)
    c.form_post("/departmentadminview/add", {"code": "x1", "name": "Phòng X", "parent": str(dep_b.id),
                                              "sort_order": "0"})
    created = db.session.scalar(select(Department).where(Department.code == "x1", Department.agency_id == a.id))
    assert created is None or created.parent_id != dep_b.id
    assert db.session.scalar(select(Department).where(Department.code == "x1", Department.agency_id == b.id)) is None


def test_agency_admin_adds_a_department_in_own_agency(two_admins, logged_in):
    a, _, admin_a, _ = two_admins
    c = logged_in(admin_a)
    resp = c.form_post("/departmentadminview/add", {"code": "cds", "name": "Phòng Chuyển đổi số",
                                                     "abbreviation": "CĐS", "sort_order": "3", "active": "y"})
    assert resp.status_code == 302
    dep = db.session.scalar(select(Department).where(Department.code == "cds", Department.agency_id == a.id))
    assert dep is not None and dep.name == "Phòng Chuyển đổi số"


def test_agency_admin_creates_an_account_that_can_log_in(two_admins, logged_in, client_for):
    a, _, admin_a, _ = two_admins
    c = logged_in(admin_a)
    resp = c.form_post("/staffadminview/add", {"full_name": "Trần Văn Mới", "email": "moi@test.vn",
                                               "roles": ["clerk"], "password": "Mk@12345678"})
    assert resp.status_code == 302
    staff = db.session.scalar(select(Staff).where(Staff.email == "moi@test.vn"))
    assert staff.agency_id == a.id
    new = client_for(f"{a.code}.localhost")
    assert new.login("moi@test.vn", "Mk@12345678").status_code == 302
    # An initial password set by an admin must be changed at the first login (app.accounts).
    assert "/account/password" in new.get("/").headers["Location"]
    new.form_post("/account/password", {"current": "Mk@12345678", "new": "Gm#98765432x", "confirm": "Gm#98765432x"})
    assert "Văn thư" in new.get("/").get_data(as_text=True)


def test_agency_admin_cannot_grant_agency_admin_or_see_soict_pages(two_admins, logged_in):
    _, _, admin_a, _ = two_admins
    c = logged_in(admin_a)
    c.form_post("/staffadminview/add", {"full_name": "Kẻ Leo Thang", "email": "leo@test.vn",
                                        "roles": ["agency_admin"], "password": "Mk@12345678"})
    assert db.session.scalar(select(Staff).where(Staff.email == "leo@test.vn")) is None
    for url in ("/agencyadminview/list/", "/agencyaccountview/list/", "/users/list/", "/roles/list/"):
        resp = c.get(url)
        assert resp.status_code in (302, 403), url
        if resp.status_code == 302:
            assert "/login" in resp.headers["Location"] or resp.headers["Location"].endswith("/"), url


def test_lower_roles_cannot_open_the_org_admin(make_agency, make_account, logged_in):
    a = make_agency()
    for role in ("clerk", "leader", "head", "specialist"):
        c = logged_in(make_account(a.code, [role]))
        resp = c.get("/departmentadminview/list/")
        assert resp.status_code in (302, 403), role


def test_soict_manages_agencies_only_on_the_central_domain(make_account, logged_in, client_for):
    soict = make_account("qlvb", ["soict_admin"])
    c = logged_in(soict)
    body = c.get("/agencyadminview/list/").get_data(as_text=True)
    assert "Sở Thông tin và Truyền thông" in body
    # The same SoICT account does not open an agency domain.
    other = client_for("isotttt.localhost")
    assert "/login" in other.login(soict.email, soict.password).headers["Location"]


def test_revoked_account_stops_at_once(make_agency, make_account, logged_in):
    a = make_agency()
    acc = make_account(a.code, ["specialist"])
    c = logged_in(acc)
    staff = db.session.get(Staff, acc.staff_id)
    staff.active = False
    staff.user.active = False
    db.session.commit()
    resp = c.get("/")
    assert "Xin chào" not in resp.get_data(as_text=True)


def test_agency_admin_marks_a_department_inactive_and_back(two_admins, logged_in):
    a, _, admin_a, _ = two_admins
    c = logged_in(admin_a)
    c.form_post("/departmentadminview/add", {"code": "tam", "name": "Tổ công tác tạm thời", "sort_order": "9",
                                             "active": "y"})
    dep = db.session.scalar(select(Department).where(Department.code == "tam", Department.agency_id == a.id))
    assert dep.active is True
    # An unticked checkbox is simply absent from the POST.
    resp = c.form_post(f"/departmentadminview/edit/{dep.id}", {"code": "tam", "name": "Tổ công tác tạm thời",
                                                                "sort_order": "9"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Department, dep.id).active is False
    c.form_post(f"/departmentadminview/edit/{dep.id}", {"code": "tam", "name": "Tổ công tác tạm thời",
                                                         "sort_order": "9", "active": "y"})
    db.session.expire_all()
    assert db.session.get(Department, dep.id).active is True
