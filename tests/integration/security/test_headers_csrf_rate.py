"""Security headers, cookie flags, CSRF on forms, and the login rate limit, through HTTP."""

import re

from sqlalchemy import select

from app.extensions import db
from app.tenancy.models import Department, Staff


def test_every_page_carries_the_security_headers(client_for):
    resp = client_for("isotttt.localhost").get("/login/")
    h = resp.headers
    csp = h["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert "'nonce-" in script_src and "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert h["X-Frame-Options"] == "DENY"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "strict-origin-when-cross-origin"
    # Every inline script of the page carries this response's nonce.
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    body = resp.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", body)
    assert all(f'nonce="{nonce}"' in attrs for attrs in inline)


def test_session_cookie_is_http_only_and_same_site(make_agency, make_account, client_for):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    resp = client_for(acc.host).login(acc.email, acc.password)
    cookie = next(v for k, v in resp.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_posts_without_a_csrf_token_are_refused(make_agency, make_account, logged_in):
    a = make_agency()
    admin = make_account(a.code, ["agency_admin"])
    c = logged_in(admin)
    dep = db.session.scalar(select(Department).where(Department.agency_id == a.id, Department.code == "vp"))
    cases = {
        "/departmentadminview/add": {"code": "x9", "name": "Không token"},
        f"/departmentadminview/edit/{dep.id}": {"code": "vp", "name": "Bị đổi tên"},
        "/staffadminview/add": {"full_name": "Không Token", "email": "notoken@test.vn", "roles": ["clerk"],
                                "password": "Hoa-mai-2026!"},
        "/account/password": {"current": admin.password, "new": "Mot-mat-khau-2026!", "confirm": "Mot-mat-khau-2026!"},
        "/login/": {"username": admin.email, "password": admin.password},
    }
    for path, data in cases.items():
        resp = c.post(path, data=data)
        assert resp.status_code in (400, 302, 200), path
        if resp.status_code == 400:
            assert "mã bảo vệ CSRF" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Department, dep.id).name == "Văn phòng"
    assert db.session.scalar(select(Department).where(Department.code == "x9")) is None
    assert db.session.scalar(select(Staff).where(Staff.email == "notoken@test.vn")) is None


def test_login_attempts_are_throttled_per_account(make_agency, make_account, client_for):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    c = client_for(acc.host)
    c.client.environ_base["REMOTE_ADDR"] = "127.9.8.7"
    responses = [c.login(acc.email, f"Sai-{i}") for i in range(6)]
    assert [r.status_code for r in responses[:5]] == [302] * 5
    assert responses[5].status_code == 429
    assert "thử lại sau" in responses[5].get_data(as_text=True)
    # Another account from the same address is not throttled by this one.
    other = make_account(a.code, ["clerk"])
    assert client_for(other.host).login(other.email, other.password).status_code == 302
