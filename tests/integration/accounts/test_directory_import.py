"""Import staff from the LDAP directory (a real slapd): search by unit, group and name, preview with per-row
errors, confirm; the imported accounts open with the directory's password only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, select

from app.accounts.models import AccountSecurity, StaffImport
from app.extensions import db
from app.tenancy.models import Staff
from tests.support.slapd import PEOPLE, SLAPD, ldif_entry, password_hash, running_slapd
from tests.support.web import csrf_token

pytestmark = [pytest.mark.ldap, pytest.mark.skipif(not SLAPD.exists(), reason="/usr/sbin/slapd is not installed")]

PASSWORD = "Mat-khau-thu-muc-2026"
GROUPS = f"ou=groups,{PEOPLE.split(',', 1)[1]}"


def _person(uid: str, unit: str, name: str, mail: str, dept: str, title: str = "", phone: str = "") -> str:
    attrs: dict[str, Any] = {"objectClass": "inetOrgPerson", "uid": uid, "cn": name, "sn": name.split()[0],
                             "displayName": name, "mail": mail, "ou": dept, "userPassword": password_hash(PASSWORD)}
    if title:
        attrs["title"] = title
    if phone:
        attrs["telephoneNumber"] = phone
    return ldif_entry(f"uid={uid},ou={unit},{PEOPLE}", attrs)


@pytest.fixture
def world(app: Any, tmp_path: Path, make_agency, make_account, logged_in) -> Iterator[dict[str, Any]]:
    a = make_agency()
    admin = make_account(a.code, ["agency_admin"])
    existing = make_account(a.code, ["clerk"])
    d = a.code
    entries = [
        ldif_entry(f"ou=vanphong,{PEOPLE}", {"objectClass": "organizationalUnit", "ou": "vanphong",
                                             "description": "Văn phòng Sở"}),
        ldif_entry(f"ou=nghiepvu,{PEOPLE}", {"objectClass": "organizationalUnit", "ou": "nghiepvu",
                                             "description": "Phòng Nghiệp vụ"}),
        _person("thu", "vanphong", "Nguyễn Thị Thư", f"thu@{d}.vinhphuc.gov.vn", "Văn phòng", "Chuyên viên",
                "0211 3862 000"),
        _person("hung", "vanphong", "Trần Văn Hùng", f"hung@{d}.vinhphuc.gov.vn", "van phong"),
        _person("khoa", "nghiepvu", "Lê Minh Khoa", f"khoa@{d}.vinhphuc.gov.vn", "Phòng Kế toán"),
        _person("cu", "nghiepvu", "Phạm Văn Cũ", existing.email, "Phòng Nghiệp vụ"),
        ldif_entry(GROUPS, {"objectClass": "organizationalUnit", "ou": "groups"}),
        ldif_entry(f"cn=vanthu,{GROUPS}", {"objectClass": "groupOfNames", "cn": "vanthu",
                                           "description": "Nhóm văn thư",
                                           "member": [f"uid=hung,ou=vanphong,{PEOPLE}"]}),
    ]
    with running_slapd(tmp_path, {}, entries=entries) as server:
        keys = ("QLVB_AUTH", "AUTH_LDAP_SERVER", "AUTH_LDAP_SEARCH", "AUTH_LDAP_BIND_USER", "AUTH_LDAP_BIND_PASSWORD",
                "AUTH_LDAP_UID_FIELD")
        saved = {k: app.config.get(k) for k in keys}
        app.config.update({"QLVB_AUTH": "ldap_then_db", "AUTH_LDAP_SERVER": server.url,
                           "AUTH_LDAP_SEARCH": server.base, "AUTH_LDAP_BIND_USER": server.bind_dn,
                           "AUTH_LDAP_BIND_PASSWORD": server.bind_password, "AUTH_LDAP_UID_FIELD": "mail"})
        try:
            yield {"agency": a, "admin": admin, "client": logged_in(admin), "existing": existing, "server": server}
        finally:
            app.config.update(saved)


def _dns(html: str) -> list[str]:
    return re.findall(r'name="dn" value="([^"]+)"', html)


def _choose(client: Any, dns: list[str], roles: list[str] | None = None) -> Any:
    page = client.get("/staffimport/directory?all=1")
    return client.post("/staffimport/directory/preview",
                       data={"csrf_token": csrf_token(page.get_data(as_text=True)), "dn": dns, "roles": roles or []})


def test_search_by_unit_group_and_name(world):
    c = world["client"]
    page = c.get("/staffimport/directory").get_data(as_text=True)
    assert "Văn phòng Sở" in page and "Nhóm văn thư" in page
    everyone = c.get("/staffimport/directory?all=1").get_data(as_text=True)
    assert "Nguyễn Thị Thư" in everyone and "Lê Minh Khoa" in everyone
    assert "Đã có tài khoản" in everyone and len(_dns(everyone)) == 3  # the existing account cannot be picked
    unit = c.get(f"/staffimport/directory?unit=ou=vanphong,{PEOPLE}").get_data(as_text=True)
    assert "Nguyễn Thị Thư" in unit and "Lê Minh Khoa" not in unit
    group = c.get(f"/staffimport/directory?group=cn=vanthu,{GROUPS}").get_data(as_text=True)
    assert _dns(group) == [f"uid=hung,ou=vanphong,{PEOPLE}"]
    by_name = c.get("/staffimport/directory?q=Khoa").get_data(as_text=True)
    assert _dns(by_name) == [f"uid=khoa,ou=nghiepvu,{PEOPLE}"]
    # Nothing outside the configured base is ever read.
    assert c.get("/staffimport/directory?unit=dc=example,dc=org").status_code == 404


def test_preview_errors_then_import_directory_accounts(world, client_for):
    a, c = world["agency"], world["client"]
    resp = _choose(c, [f"uid=thu,ou=vanphong,{PEOPLE}", f"uid=khoa,ou=nghiepvu,{PEOPLE}"])
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    html = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Dòng 2: không có phòng ban “Phòng Kế toán” trong cơ quan" in html
    assert 'name="token"' not in html

    resp = _choose(c, [f"uid=thu,ou=vanphong,{PEOPLE}", f"uid=hung,ou=vanphong,{PEOPLE}"], roles=["clerk"])
    path = resp.headers["Location"].replace("http://" + c.host, "")
    html = c.get(path).get_data(as_text=True)
    token = re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)
    assert "Nguyễn Thị Thư" in html and "Văn phòng" in html
    done = c.form_post(path + "confirm", {"token": token}, from_page="/staffimport/")
    assert done.status_code == 200
    db.session.expire_all()
    thu = db.session.scalar(select(Staff).where(Staff.email == f"thu@{a.code}.vinhphuc.gov.vn"))
    assert thu.full_name == "Nguyễn Thị Thư" and thu.department.code == "vp" and thu.position.code == "cv"
    assert thu.phone == "0211 3862 000" and {r.name for r in thu.user.roles} == {"clerk", "specialist"}
    sec = db.session.get(AccountSecurity, thu.user_id)
    assert sec.directory_account and not sec.must_change_password
    assert db.session.scalar(select(StaffImport.source).where(StaffImport.agency_id == a.id,
                                                              StaffImport.status == "imported")) == "directory"
    # The directory's password opens the new account.
    login = client_for(world["admin"].host).login(thu.email, PASSWORD)
    assert login.status_code == 302 and "/login" not in login.headers["Location"]


def test_posted_dns_outside_the_base_or_gone_are_refused(world):
    c = world["client"]
    assert _choose(c, ["uid=x,dc=example,dc=org"]).status_code == 404
    assert _choose(c, [f"uid=khong-co,ou=vanphong,{PEOPLE}"]).status_code == 404
    assert _choose(c, []).status_code == 422
    assert db.session.scalar(select(func.count(User.id)).where(User.email.like("%khong-co%"))) == 0


def test_directory_down_is_a_clear_message(world, app):
    app.config["AUTH_LDAP_SERVER"] = "ldap://127.0.0.1:9"
    resp = world["client"].get("/staffimport/directory?all=1")
    assert resp.status_code == 503
    assert "Không kết nối được máy chủ thư mục" in resp.get_data(as_text=True)


def test_directory_import_is_hidden_with_database_logins(world, app):
    app.config["QLVB_AUTH"] = "db"
    assert world["client"].get("/staffimport/directory").status_code == 404
