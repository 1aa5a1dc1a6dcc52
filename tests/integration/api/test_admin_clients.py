"""The agency admin's page of system accounts: the token is shown once, works, and stops at revocation."""

from __future__ import annotations

import re

from tests.support.web import csrf_token

_TOKEN = re.compile(r'id="issued-token"[^>]*value="(qlvb_[A-Za-z0-9_-]+)"')


def test_admin_creates_rotates_and_revokes_a_client(app, make_agency, make_account, logged_in, client_for) -> None:
    from app.accounts.models import ApiClient, AuditEvent
    from app.extensions import db

    agency = make_agency()
    admin = logged_in(make_account(agency.code, ["agency_admin"]))
    page = admin.get("/api-clients/")
    assert page.status_code == 200 and "Tài khoản hệ thống" in page.get_data(as_text=True)
    created = admin.form_post("/api-clients/", {"name": "Cổng dịch vụ công", "scopes": ["documents:read"],
                                                "rate_limit": ""})
    html = created.get_data(as_text=True)
    assert created.status_code == 200 and "chỉ hiện một lần" in html, html[:2000]
    token = _TOKEN.search(html).group(1)
    row = db.session.query(ApiClient).filter_by(agency_id=agency.id).one()
    assert row.token_hash != token and token not in repr(row.__dict__)  # only the hash is kept
    api = client_for(f"{agency.code}.localhost")
    assert api.get("/api/v1/registers", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert "Chưa có" not in admin.get("/api-clients/").get_data(as_text=True)
    assert token not in admin.get("/api-clients/").get_data(as_text=True)  # shown once, never again

    rotated = admin.post(f"/api-clients/{row.id}/rotate", data={"csrf_token": csrf_token(html)})
    new_token = _TOKEN.search(rotated.get_data(as_text=True)).group(1)
    assert new_token != token
    assert api.get("/api/v1/registers", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert api.get("/api/v1/registers", headers={"Authorization": f"Bearer {new_token}"}).status_code == 200

    revoked = admin.post(f"/api-clients/{row.id}/revoke", data={"csrf_token": csrf_token(html)})
    assert revoked.status_code == 302
    assert api.get("/api/v1/registers", headers={"Authorization": f"Bearer {new_token}"}).status_code == 401
    db.session.rollback()
    kinds = {e.kind for e in db.session.query(AuditEvent).filter(AuditEvent.target_type == "api_client",
                                                                 AuditEvent.target_id == str(row.id))}
    assert kinds == {"api_client_created", "api_client_rotated", "api_client_revoked"}


def test_clerk_and_other_agency_cannot_manage_clients(app, make_agency, make_account, logged_in) -> None:
    from app.accounts.api_clients import create_api_client
    from app.extensions import db

    a, b = make_agency(), make_agency()
    issued = create_api_client(b.id, b.code, name="Hệ thống của B", scopes=["documents:read"])
    db.session.commit()
    clerk = logged_in(make_account(a.code, ["clerk"]))
    assert clerk.get("/api-clients/").status_code in (302, 403)
    admin_a = logged_in(make_account(a.code, ["agency_admin"]))
    html = admin_a.get("/api-clients/").get_data(as_text=True)
    assert "Hệ thống của B" not in html
    refused = admin_a.post(f"/api-clients/{issued.client.id}/revoke", data={"csrf_token": csrf_token(html)})
    assert refused.status_code == 404
    db.session.rollback()
    from app.accounts.models import ApiClient

    assert db.session.get(ApiClient, issued.client.id).active is True
