"""No unauthenticated API beside the login form, a ``next=`` that never leaves the site nor splits a header,
and ``Cache-Control: no-store`` on every authenticated page and download."""

from __future__ import annotations

import pytest

from tests.support.web import csrf_token

HOSTILE_NEXT = [
    "http://evil.example/", "https://evil.example/x", "//evil.example/x", "///evil.example", "/\\evil.example",
    "\\\\evil.example", " //evil.example", "\t//evil.example", "/%0d%0aSet-Cookie:%20x=1", "/\r\nSet-Cookie: x=1",
    "/inbox/\r\nLocation: http://evil.example", "javascript:alert(1)", "http:evil.example", "/\u2028x",
    "https://isotttt.localhost@evil.example/",
]


def test_no_fab_api_route_is_served(app, client_for, make_agency, make_account):
    # Under /api/ only our own JSON API (app/api, token-authenticated) answers; none of FAB's token login, menu
    # or model APIs.
    foreign = [(r.rule, r.endpoint) for r in app.url_map.iter_rules()
               if r.rule.startswith("/api/") and not r.endpoint.startswith("api.")]
    assert not foreign, foreign
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    c = client_for(acc.host)
    for path in ("/api/v1/security/login", "/api/v1/security/refresh", "/api/v1/menu/", "/api/v1/_openapi",
                 "/swagger/v1"):
        assert c.post(path, json={"username": acc.email, "password": acc.password, "provider": "db",
                                  "refresh": True}).status_code == 404, path
        assert c.get(path).status_code == 404, path


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_next_never_leaves_the_site_and_never_fails(make_agency, make_account, client_for, target):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    c = client_for(acc.host)
    page = c.get("/login/", query_string={"next": target})
    assert page.status_code == 200
    resp = c.post("/login/", query_string={"next": target}, data={
        "username": acc.email, "password": acc.password, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert resp.status_code == 302
    location = resp.headers["Location"]
    on_site = (location.startswith("/") and not location.startswith("//") and "\\" not in location) \
        or location.startswith(f"http://{acc.host}/")
    assert on_site, location
    assert "\r" not in location and "\n" not in location and "evil" not in location
    # Already logged in: the same rule.
    again = c.get("/login/", query_string={"next": target})
    assert again.status_code == 302 and "evil" not in again.headers["Location"]
    # A failed login keeps only a safe next in the link back to the form.
    failed = client_for(acc.host)
    page = failed.get("/login/")
    resp = failed.post("/login/", query_string={"next": target}, data={
        "username": acc.email, "password": "Sai-roi-1", "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert resp.status_code == 302 and "evil" not in resp.headers["Location"]


def test_a_safe_next_is_followed(make_agency, make_account, client_for):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    c = client_for(acc.host)
    page = c.get("/login/?next=/inbox/%3Ftab%3Dmine")
    resp = c.post("/login/?next=/inbox/%3Ftab%3Dmine", data={
        "username": acc.email, "password": acc.password, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert resp.headers["Location"] == "/inbox/?tab=mine"


def test_authenticated_pages_and_downloads_are_never_stored(make_agency, make_account, logged_in, client_for, app):
    a = make_agency()
    acc = make_account(a.code, ["clerk", "agency_admin"])
    c = logged_in(acc)
    for path in ("/", "/inbox/", "/account/password", "/documents/incoming/", "/staffadminview/list/", "/audit/",
                 "/audit/export.csv", "/notifications/"):
        resp = c.get(path)
        assert resp.status_code == 200, path
        assert resp.headers.get("Cache-Control") == "no-store", path
        assert "ETag" not in resp.headers and "Last-Modified" not in resp.headers, path
    # A download (send_file would otherwise allow caching with an ETag).
    export = c.get("/audit/export.xlsx")
    assert "attachment" in export.headers.get("Content-Disposition", "")
    assert export.headers["Cache-Control"] == "no-store" and "ETag" not in export.headers
    # The login page (it carries a CSRF token) and error pages too; our own CSS/JS stay cacheable.
    anon = client_for(acc.host)
    assert anon.get("/login/").headers["Cache-Control"] == "no-store"
    assert anon.get("/no-such-page").headers["Cache-Control"] == "no-store"
    static = next(r.rule for r in app.url_map.iter_rules() if r.endpoint == "appbuilder.static")
    css = anon.get(static.replace("<path:filename>", "css/bootstrap.min.css"))
    assert css.status_code == 200 and css.headers.get("Cache-Control") != "no-store"
