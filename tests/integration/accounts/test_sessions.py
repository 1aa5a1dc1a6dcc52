"""Server-side sessions: a copy of the cookie taken before logout, a password change or an admin's revocation
is refused afterwards, for reads and for writes; FAB's password pages ask for the current password."""

from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select

from app.accounts.hashing import verify_password
from app.accounts.models import AuditEvent, UserSession
from app.extensions import db
from tests.support.web import csrf_token


def _copy(client_for, c, host: str):
    """Another browser holding an exact copy of ``c``'s session cookie."""
    stolen = c.client.get_cookie("session", domain=host)
    assert stolen is not None
    thief = client_for(host)
    thief.client.set_cookie("session", stolen.value, domain=host)
    return thief


def _to_login(resp) -> bool:
    return resp.status_code == 302 and "/login" in resp.headers["Location"]


def _password_of(user_id: int) -> str:
    db.session.expire_all()
    return db.session.get(User, user_id).password


def test_a_cookie_replayed_after_logout_can_neither_read_nor_write(make_agency, make_account, logged_in,
                                                                    client_for):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    c = logged_in(acc)
    token = csrf_token(c.get("/account/password").get_data(as_text=True))
    thief = _copy(client_for, c, acc.host)
    assert thief.get("/inbox/").status_code == 200  # the copy works while the session lives
    c.logout()
    assert _to_login(thief.get("/inbox/"))
    assert _to_login(thief.get("/account/password"))
    before = _password_of(acc.user_id)
    new = "Trộm-cookie-2026!"
    resp = thief.post("/account/password", data={"current": acc.password, "new": new, "confirm": new,
                                                 "csrf_token": token})
    assert resp.status_code in (302, 400) and not resp.headers.get("Location", "").endswith("/")
    assert _password_of(acc.user_id) == before
    row = db.session.scalars(select(UserSession).where(UserSession.user_id == acc.user_id)).one()
    assert row.revoked_reason == "logout"


def test_a_password_change_ends_every_copy_but_the_browser_that_changed_it_goes_on(make_agency, make_account,
                                                                                   logged_in, client_for):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    laptop, phone = logged_in(acc), logged_in(acc)
    copy_of_laptop = _copy(client_for, laptop, acc.host)
    new = "Đồi-chè-Tam-Đảo-9"
    assert laptop.form_post("/account/password", {"current": acc.password, "new": new, "confirm": new}
                            ).status_code == 302
    assert laptop.get("/inbox/").status_code == 200
    assert _to_login(phone.get("/inbox/"))
    assert _to_login(copy_of_laptop.get("/inbox/"))


def test_an_admin_signs_an_official_out_of_every_browser(make_agency, make_account, logged_in, client_for):
    a, b = make_agency(), make_agency()
    admin = make_account(a.code, ["agency_admin"])
    official = make_account(a.code, ["clerk"])
    elsewhere = make_account(b.code, ["clerk"])
    desk, home = logged_in(official), logged_in(official)
    other_agency = logged_in(elsewhere)
    boss = logged_in(admin)
    page = boss.get("/staffadminview/list/").get_data(as_text=True)
    assert "Đăng xuất mọi phiên" in page
    resp = boss.post("/staffadminview/action_post", data={"action": "revoke_sessions", "rowid": [official.staff_id],
                                                          "csrf_token": csrf_token(page)})
    assert resp.status_code == 302
    assert _to_login(desk.get("/inbox/")) and _to_login(home.get("/inbox/"))
    # Another agency's official cannot be signed out from here: the same "not found" as a missing one.
    resp = boss.post("/staffadminview/action_post", data={"action": "revoke_sessions", "rowid": [elsewhere.staff_id],
                                                          "csrf_token": csrf_token(page)})
    assert resp.status_code == 404
    assert other_agency.get("/inbox/").status_code == 200
    # A link (GET) changes nothing.
    again = logged_in(official)
    boss.get(f"/staffadminview/action/revoke_sessions/{official.staff_id}")
    assert again.get("/inbox/").status_code == 200
    kinds = db.session.scalars(select(AuditEvent.kind).where(AuditEvent.target_id == str(official.staff_id))).all()
    assert "sessions_revoked" in kinds
    # The official signs in again as usual.
    assert logged_in(official).get("/inbox/").status_code == 200


def test_fab_self_service_reset_needs_the_current_password(make_agency, make_account, logged_in):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    c = logged_in(acc)
    before = _password_of(acc.user_id)
    resp = c.get("/resetmypassword/form")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account/password")
    token = csrf_token(c.get("/account/password").get_data(as_text=True))
    new = "Khong-can-mat-khau-cu-1"
    c.post("/resetmypassword/form", data={"password": new, "conf_password": new, "csrf_token": token})
    assert _password_of(acc.user_id) == before
    # Our page: without the right current password nothing changes.
    body = c.form_post("/account/password", {"current": "Sai-roi-1", "new": new, "confirm": new}).get_data(
        as_text=True)
    assert "Mật khẩu hiện tại không đúng" in body
    assert _password_of(acc.user_id) == before


def test_soict_reset_of_another_account_needs_the_admins_own_password(make_agency, make_account, logged_in,
                                                                      soict):
    a = make_agency()
    target = make_account(a.code, ["clerk"])
    victim_browser = logged_in(target)
    admin = logged_in(soict)
    url = f"/resetpassword/form?pk={target.user_id}"
    page = admin.get(url)
    assert page.status_code == 200 and "Mật khẩu hiện tại của bạn" in page.get_data(as_text=True)
    new = "Dat-lai-boi-So-2026!"
    token = csrf_token(page.get_data(as_text=True))
    before = _password_of(target.user_id)
    admin.post(url, data={"password": new, "conf_password": new, "current_password": "khong-dung",
                          "csrf_token": token})
    assert _password_of(target.user_id) == before
    admin.post(url, data={"password": new, "conf_password": new, "current_password": soict.password,
                          "csrf_token": token})
    assert verify_password(_password_of(target.user_id), new)[0]
    assert _to_login(victim_browser.get("/inbox/"))
