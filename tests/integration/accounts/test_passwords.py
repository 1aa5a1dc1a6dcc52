"""Database passwords through HTTP: argon2 rehash, expiry with forced change, no reuse of recent passwords,
other sessions ending after a change (throttling of wrong passwords: test_login_throttle.py)."""

import datetime as dt

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.accounts.models import AccountSecurity, AuditEvent
from app.core import clock
from app.extensions import db


def _logged_in(resp):
    return resp.status_code == 302 and "/login" not in resp.headers["Location"]


def test_werkzeug_hash_is_upgraded_to_argon2_at_login(make_agency, make_account, client_for):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    user = db.session.get(User, acc.user_id)
    user.password = generate_password_hash(acc.password)
    db.session.commit()
    assert _logged_in(client_for(acc.host).login(acc.email, acc.password))
    db.session.expire_all()
    assert db.session.get(User, acc.user_id).password.startswith("$argon2id$")


def test_expired_password_forces_change_on_every_page_and_history_refuses_reuse(make_agency, make_account,
                                                                                logged_in, client_for):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    c = logged_in(acc)
    sec = db.session.get(AccountSecurity, acc.user_id)
    sec.password_changed_at = clock.now() - dt.timedelta(days=91)
    db.session.commit()
    for path in ("/", "/inbox/", "/audit/"):
        resp = c.get(path)
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/account/password"), path
    page = c.get("/account/password").get_data(as_text=True)
    assert "đã quá 90 ngày" in page
    # The same password again: refused.
    body = c.form_post("/account/password", {"current": acc.password, "new": acc.password,
                                             "confirm": acc.password}).get_data(as_text=True)
    assert "Không được dùng lại mật khẩu" in body
    # Too weak: each rule broken is listed.
    body = c.form_post("/account/password", {"current": acc.password, "new": "abc", "confirm": "abc"}
                       ).get_data(as_text=True)
    assert "ít nhất 10 ký tự" in body
    new1 = "Mùa-thu-Hà-Nội-2026"
    resp = c.form_post("/account/password", {"current": acc.password, "new": new1, "confirm": new1})
    assert resp.status_code == 302
    assert c.get("/account/password").status_code == 200
    new2 = "Sông-Lô-chảy-2027"
    c.form_post("/account/password", {"current": new1, "new": new2, "confirm": new2})
    body = c.form_post("/account/password", {"current": new2, "new": acc.password, "confirm": acc.password}
                       ).get_data(as_text=True)
    assert "Không được dùng lại mật khẩu" in body
    kinds = db.session.scalars(select(AuditEvent.kind).where(AuditEvent.user_id == acc.user_id)).all()
    assert kinds.count("password_changed") == 2


def test_a_password_change_ends_the_other_sessions(make_agency, make_account, logged_in):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    laptop, phone = logged_in(acc), logged_in(acc)
    assert phone.get("/account/password").status_code == 200
    new = "Đồi-chè-Tam-Đảo-9"
    assert laptop.form_post("/account/password", {"current": acc.password, "new": new, "confirm": new}
                            ).status_code == 302
    assert laptop.get("/account/password").status_code == 200
    resp = phone.get("/inbox/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_empty_password_never_logs_in(make_agency, make_account, client_for):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    assert not _logged_in(client_for(acc.host).login(acc.email, ""))
    assert not _logged_in(client_for(acc.host).login(acc.email, "\x00"))
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.username == acc.email)).all()
    assert all(not e.success for e in events)
