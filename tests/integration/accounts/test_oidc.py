"""Single sign-on with a real OpenID Connect provider on loopback (Authlib's server components): discovery,
JWKS, code flow with PKCE and nonce; e-mail maps to an existing account of the host's agency only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select

from app.accounts.models import AuditEvent
from app.extensions import db
from tests.support.oidc_provider import OidcProvider, running_provider

KEYS = ("QLVB_OIDC_METADATA_URL", "QLVB_OIDC_CLIENT_ID", "QLVB_OIDC_CLIENT_SECRET")


@pytest.fixture
def provider(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[OidcProvider]:
    # The provider (not QLVB) refuses plain HTTP unless told it runs in a test.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    with running_provider("qlvb-test", "bi-mat-cua-qlvb", ("http://",)) as p:
        saved = {k: app.config.get(k) for k in KEYS}
        app.config.update({"QLVB_OIDC_METADATA_URL": p.metadata_url, "QLVB_OIDC_CLIENT_ID": "qlvb-test",
                           "QLVB_OIDC_CLIENT_SECRET": "bi-mat-cua-qlvb"})
        try:
            yield p
        finally:
            app.config.update(saved)


def _dance(client: Any, provider: OidcProvider, email: str | None, *, verified: bool = True) -> Any:
    """Click the button, let the provider answer for ``email``, follow its redirect back: the callback's answer."""
    provider.sign_in(email, verified=verified)
    start = client.get("/login/oidc?next=/inbox/")
    assert start.status_code == 302, start.get_data(as_text=True)[:500]
    location = start.headers["Location"]
    assert location.startswith(provider.issuer + "/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"] and query["nonce"]
    assert query["redirect_uri"] == [f"http://{client.host}/login/oidc/callback"]
    answer = requests.get(location, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    back = urlsplit(answer.headers["Location"])
    assert back.netloc == client.host and back.path == "/login/oidc/callback"
    return client.get(f"{back.path}?{back.query}")


def _reason(username: str) -> str:
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.username == username)
                               .order_by(AuditEvent.id.desc())).first()
    return (event.detail or {}).get("reason") or event.kind


def test_login_page_offers_the_button_only_when_configured(provider, make_agency, client_for, app):
    a = make_agency()
    page = client_for(f"{a.code}.localhost").get("/login/").get_data(as_text=True)
    assert "Đăng nhập bằng tài khoản một cửa của tỉnh" in page
    app.config["QLVB_OIDC_METADATA_URL"] = ""
    c = client_for(f"{a.code}.localhost")
    assert "tài khoản một cửa" not in c.get("/login/").get_data(as_text=True)
    assert c.get("/login/oidc").status_code == 404


def test_sso_signs_in_an_existing_official_of_this_agency(provider, make_agency, make_account, client_for):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    c = client_for(acc.host)
    done = _dance(c, provider, acc.email.upper())
    assert done.status_code == 302 and done.headers["Location"].endswith("/inbox/")
    assert c.get("/inbox/").status_code == 200
    assert provider.tokens_issued == 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.username == acc.email)
                               .order_by(AuditEvent.id.desc())).first()
    assert event.kind == "login" and event.detail == {"via": "oidc"}
    # Logging out ends it like any session.
    c.logout()
    resp = c.get("/inbox/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_an_official_of_another_agency_is_refused_on_this_host(provider, make_agency, make_account, client_for):
    a, b = make_agency(), make_agency()
    acc = make_account(a.code, ["clerk"])
    c = client_for(f"{b.code}.localhost")
    done = _dance(c, provider, acc.email)
    assert done.status_code == 302 and "/login" in done.headers["Location"]
    resp = c.get("/inbox/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert _reason(acc.email) == "wrong_host"


def test_unknown_or_unverified_email_is_never_registered(provider, make_agency, make_account, client_for):
    a = make_agency()
    c = client_for(f"{a.code}.localhost")
    stranger = f"nguoi-la@{a.code}.vinhphuc.gov.vn"
    done = _dance(c, provider, stranger)
    assert done.status_code == 302 and "/login" in done.headers["Location"]
    assert db.session.scalar(select(User).where(User.email == stranger)) is None
    assert _reason(stranger) == "unknown_user"
    acc = make_account(a.code, ["clerk"])
    c2 = client_for(acc.host)
    done = _dance(c2, provider, acc.email, verified=False)
    assert "/login" in done.headers["Location"] and _reason(acc.email) == "oidc_no_email"
    assert c2.get("/inbox/").status_code == 302


def test_a_forged_or_replayed_callback_is_refused(provider, make_agency, make_account, client_for):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    c = client_for(acc.host)
    provider.sign_in(acc.email)
    location = c.get("/login/oidc").headers["Location"]
    back = urlsplit(requests.get(location, allow_redirects=False, timeout=10).headers["Location"])
    params = parse_qs(back.query)
    # Another browser (no state in its session) cannot use the code.
    thief = client_for(acc.host)
    stolen = thief.get(f"/login/oidc/callback?code={params['code'][0]}&state={params['state'][0]}")
    assert "/login" in stolen.headers["Location"] and thief.get("/inbox/").status_code == 302
    # A made-up state is refused in the right browser too.
    forged = c.get(f"/login/oidc/callback?code={params['code'][0]}&state=gia-mao")
    assert "/login" in forged.headers["Location"] and c.get("/inbox/").status_code == 302
    # The provider's refusal (nobody signed in there) comes back as a refusal.
    provider.sign_in(None)
    location = c.get("/login/oidc").headers["Location"]
    refused = urlsplit(requests.get(location, allow_redirects=False, timeout=10).headers["Location"])
    assert "error=access_denied" in refused.query
    assert "/login" in c.get(f"{refused.path}?{refused.query}").headers["Location"]


def test_provider_down_is_a_message_not_an_error(provider, make_agency, client_for, app):
    a = make_agency()
    app.config["QLVB_OIDC_METADATA_URL"] = "http://127.0.0.1:9/.well-known/openid-configuration"
    c = client_for(f"{a.code}.localhost")
    resp = c.get("/login/oidc")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
