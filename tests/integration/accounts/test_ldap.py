"""LDAP login against a real OpenLDAP (slapd) through HTTP, with the database fallback SoICT switches on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.accounts.models import AccountSecurity, AuditEvent
from app.extensions import db
from tests.support.slapd import SLAPD, running_slapd

pytestmark = [pytest.mark.ldap, pytest.mark.skipif(not SLAPD.exists(), reason="/usr/sbin/slapd is not installed")]

DIRECTORY_PASSWORD = "Thu-muc-cong-vu-2026"


@pytest.fixture
def directory(app: Any, tmp_path: Path, make_agency, make_account) -> Iterator[dict[str, Any]]:
    a = make_agency()
    in_ldap = make_account(a.code, ["clerk"])
    only_db = make_account(a.code, ["specialist"])
    with running_slapd(tmp_path, {in_ldap.email: DIRECTORY_PASSWORD, "chua-co-ho-so@vinhphuc.gov.vn": "X-12345678"}
                       ) as server:
        saved = {k: app.config.get(k) for k in ("QLVB_AUTH", "AUTH_LDAP_SERVER", "AUTH_LDAP_SEARCH",
                                                 "AUTH_LDAP_BIND_USER", "AUTH_LDAP_BIND_PASSWORD",
                                                 "AUTH_LDAP_UID_FIELD")}
        app.config.update({"AUTH_LDAP_SERVER": server.url, "AUTH_LDAP_SEARCH": server.people,
                           "AUTH_LDAP_BIND_USER": server.bind_dn, "AUTH_LDAP_BIND_PASSWORD": server.bind_password,
                           "AUTH_LDAP_UID_FIELD": "mail"})
        try:
            yield {"app": app, "in_ldap": in_ldap, "only_db": only_db, "server": server}
        finally:
            app.config.update(saved)


def _ok(resp: Any) -> bool:
    return resp.status_code == 302 and "/login" not in resp.headers["Location"]


def test_ldap_then_db(directory, client_for):
    directory["app"].config["QLVB_AUTH"] = "ldap_then_db"
    in_ldap, only_db = directory["in_ldap"], directory["only_db"]
    # The directory's password opens the account; its database password does not.
    assert _ok(client_for(in_ldap.host).login(in_ldap.email, DIRECTORY_PASSWORD))
    assert not _ok(client_for(in_ldap.host).login(in_ldap.email, in_ldap.password))
    assert not _ok(client_for(in_ldap.host).login(in_ldap.email, "sai-" + DIRECTORY_PASSWORD))
    assert db.session.get(AccountSecurity, in_ldap.user_id).directory_account
    # Not in the directory: the database password, because this deployment allows the fallback.
    assert _ok(client_for(only_db.host).login(only_db.email, only_db.password))
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.username == in_ldap.email)
                                .order_by(AuditEvent.id)).all()
    assert [e.kind for e in events][:3] == ["login", "login_failed", "login_failed"]
    assert events[0].detail == {"via": "ldap"}
    assert events[2].detail["reason"] == "ldap_bad_password"


def test_ldap_only_refuses_the_fallback(directory, client_for):
    directory["app"].config["QLVB_AUTH"] = "ldap"
    in_ldap, only_db = directory["in_ldap"], directory["only_db"]
    assert _ok(client_for(in_ldap.host).login(in_ldap.email, DIRECTORY_PASSWORD))
    assert not _ok(client_for(only_db.host).login(only_db.email, only_db.password))
    reason = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.username == only_db.email)).all()[-1]
    assert reason["reason"] == "ldap_not_found"


def test_directory_person_without_a_staff_profile_is_never_registered(directory, client_for):
    directory["app"].config["QLVB_AUTH"] = "ldap_then_db"
    host = directory["in_ldap"].host
    assert not _ok(client_for(host).login("chua-co-ho-so@vinhphuc.gov.vn", "X-12345678"))
    from flask_appbuilder.security.sqla.models import User

    assert db.session.scalar(select(User).where(User.username == "chua-co-ho-so@vinhphuc.gov.vn")) is None


def test_directory_down_refuses_directory_accounts_but_not_database_ones(directory, client_for):
    app = directory["app"]
    app.config["QLVB_AUTH"] = "ldap_then_db"
    in_ldap, only_db = directory["in_ldap"], directory["only_db"]
    assert _ok(client_for(in_ldap.host).login(in_ldap.email, DIRECTORY_PASSWORD))
    app.config["AUTH_LDAP_SERVER"] = "ldap://127.0.0.1:9"  # nothing listens there
    assert not _ok(client_for(in_ldap.host).login(in_ldap.email, in_ldap.password))
    assert _ok(client_for(only_db.host).login(only_db.email, only_db.password))
