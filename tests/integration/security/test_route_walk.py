"""Walk EVERY registered route as (a) an official of another agency and (b) each lower role, and anonymously.

Refusal means a redirect to the login page, 403 or 404 (or 400/405 for a malformed call) — never a 500, and
never a 200 that shows the other agency's data (its rows carry a unique marker we look for).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from app.extensions import Model, appbuilder, db
from app.tenancy.models import Department, Staff

# Genuinely public routes: the login page, static files, the language switch and the home landing page
# (which shows only a greeting and the login link to anonymous visitors).
PUBLIC_ENDPOINTS = {
    "static",                 # our CSS/JS
    "appbuilder.static",      # FAB's CSS/JS
    "LocaleView.index",       # language switch: sets a cookie, redirects
    "HomeIndexView.index",    # landing page
    "UtilView.back",          # FAB's "back" redirect helper, no data
    "ops.healthz",            # {"status": "ok"}: the process answers (load balancers, systemd)
    "ops.readyz",             # which of database, broker, storage answer; no data (ops.metrics needs its token)
    "pwa.manifest",           # the web app's manifest: names and icons, no data
    "pwa.service_worker",     # the shell cache script: static file list, no data
    "api.openapi",            # the JSON API's OpenAPI document: how to call it, no data (tokens guard the rest)
    "pwa.offline",            # "Không có kết nối mạng" page shown by the service worker
}
PUBLIC_PREFIXES = ("QlvbAuthDBView.", "QlvbAuthLDAPView.", "AuthDBView.")  # login, logout
# Pages that list other agencies' officials ON PURPOSE: inter-agency opinion requests are addressed to
# named leaders of other agencies (Art 8), so their names are directory data. Nothing else may show them.
CROSS_AGENCY_DIRECTORY = {"/opinions/new"}
REFUSED = {301, 302, 303, 400, 401, 403, 404, 405, 409, 410, 422}
NON_ID_VALUES = {"name": "delete", "filename": "x.txt", "fmt": "csv", "key": "incoming", "token": "x" * 32,
                 "locale": "vi"}


def _public(endpoint: str) -> bool:
    return endpoint in PUBLIC_ENDPOINTS or endpoint.startswith(PUBLIC_PREFIXES) or endpoint.startswith("SecurityApi")


def _agency_ids(agency_id: int) -> dict[str, list[int]]:
    """Newest ids of the agency's rows in every table that has agency_id (table name -> ids)."""
    out: dict[str, list[int]] = {}
    for table in Model.metadata.sorted_tables:
        if "agency_id" in table.c and "id" in table.c:
            ids = db.session.execute(select(table.c.id).where(table.c.agency_id == agency_id)
                                     .order_by(table.c.id.desc()).limit(2)).scalars().all()
            if ids:
                out[table.name] = list(ids)
    return out


def _fab_tables() -> dict[str, str]:
    """FAB view endpoint -> its model's table (for <pk>)."""
    out = {}
    for view in appbuilder.baseviews:
        datamodel = getattr(view, "datamodel", None)
        if datamodel is not None and getattr(datamodel, "obj", None) is not None:
            out[view.endpoint] = sa_inspect(datamodel.obj).local_table.name
    return out


def _urls(rule: Any, ids: dict[str, list[int]], fab_tables: dict[str, str]) -> list[str]:
    args = sorted(rule.arguments)
    if not args:
        return [rule.rule]
    all_ids = sorted({i for v in ids.values() for i in v})
    choices: list[dict[str, Any]] = [{}]
    for arg in args:
        conv = rule._converters[arg].__class__.__name__
        if arg in NON_ID_VALUES and conv != "IntegerConverter":
            values: list[Any] = [NON_ID_VALUES[arg]]
        else:
            stem = arg.removesuffix("_id")
            table = fab_tables.get(rule.endpoint.split(".")[0]) if arg == "pk" else None
            values = ids.get(table or "", []) or [i for t, v in ids.items() if stem in t for i in v] or all_ids[:6]
        choices = [{**c, arg: v} for c in choices for v in values[:6]]
    urls = []
    for c in choices[:12]:
        url = rule.rule
        for k, v in c.items():
            url = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?" + k + ">", str(v), url)
        urls.append(url)
    return urls


@pytest.fixture
def world(make_agency, make_account, logged_in, client_for):
    marker = f"MARKER{secrets.token_hex(4).upper()}"
    b = make_agency()
    a = make_agency()
    accounts = {role: make_account(a.code, [role], department_code="nv", name=f"Cán bộ {marker} {role}")
                for role in ("clerk", "leader", "head", "specialist", "legal", "agency_admin")}
    dep = db.session.scalar(select(Department).where(Department.agency_id == a.id, Department.code == "nv"))
    dep.name = f"Phòng {marker}"
    db.session.commit()
    outsider = make_account(b.code, ["agency_admin", "clerk", "leader"])
    return {"a": a, "b": b, "marker": marker, "accounts": accounts, "outsider": outsider}


def _rules(app: Any) -> list[Any]:
    return [r for r in app.url_map.iter_rules() if not _public(r.endpoint)]


def _check(resp: Any, url: str, marker: str, problems: list[str], *, who: str) -> None:
    body = resp.get_data(as_text=True) if (resp.mimetype and "text" in resp.mimetype) or resp.is_json else ""
    if resp.status_code >= 500:
        problems.append(f"{who} {url}: {resp.status_code}")
    elif resp.status_code == 200 and marker in body and url not in CROSS_AGENCY_DIRECTORY:
        problems.append(f"{who} {url}: 200 with the other agency's data")
    elif resp.status_code not in REFUSED | {200}:
        problems.append(f"{who} {url}: unexpected {resp.status_code}")


def test_an_official_of_another_agency_is_refused_everywhere(app, world, logged_in, client_for):
    a, marker = world["a"], world["marker"]
    ids = _agency_ids(a.id)
    fab_tables = _fab_tables()
    own_host = logged_in(world["outsider"])
    # The outsider's session cookie replayed on agency A's host.
    replayed = client_for(world["accounts"]["clerk"].host)
    stolen = own_host.client.get_cookie("session", domain=world["outsider"].host)
    assert stolen is not None
    replayed.client.set_cookie("session", stolen.value, domain=world["accounts"]["clerk"].host)
    problems: list[str] = []
    walked = 0
    for rule in _rules(app):
        if "GET" not in rule.methods:
            continue
        for url in _urls(rule, ids, fab_tables):
            walked += 1
            _check(own_host.get(url), url, marker, problems, who="outsider")
            resp = replayed.get(url)
            if resp.status_code == 200 and rule.arguments:
                problems.append(f"replayed cookie on A's host {url}: 200")
            _check(resp, url, marker, problems, who="replayed")
    assert walked > 100
    assert not problems, "\n".join(problems)


def test_posts_from_another_agency_change_nothing(app, world, logged_in):
    a, marker = world["a"], world["marker"]
    ids = _agency_ids(a.id)
    fab_tables = _fab_tables()
    c = logged_in(world["outsider"])
    token_page = c.get("/account/password").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', token_page).group(1)
    problems: list[str] = []
    for rule in _rules(app):
        if "POST" not in rule.methods or not rule.arguments:
            continue
        for url in _urls(rule, ids, fab_tables):
            resp = c.post(url, data={"csrf_token": token, "name": "Bị sửa", "full_name": "Bị sửa"})
            if resp.status_code >= 500:
                problems.append(f"POST {url}: {resp.status_code}")
    db.session.expire_all()
    dep = db.session.scalar(select(Department).where(Department.agency_id == a.id, Department.code == "nv"))
    assert dep.name == f"Phòng {marker}"
    staff = db.session.scalars(select(Staff).where(Staff.agency_id == a.id)).all()
    assert all(s.active and marker in s.full_name for s in staff)
    assert not problems, "\n".join(problems)


def _granted(role_name: str) -> set[tuple[str, str]]:
    sm = appbuilder.sm
    role = sm.find_role(role_name)
    return {(p.permission.name, p.view_menu.name) for p in role.permissions}


def _permission_of(endpoint: str) -> tuple[str, str] | None:
    view_name, _, method = endpoint.partition(".")
    view = next((v for v in appbuilder.baseviews if v.endpoint == view_name), None)
    if view is None:
        return None
    func = getattr(view, method, None)
    name = getattr(func, "_permission_name", None)
    if name is None:
        return None
    name = (view.method_permission_name or {}).get(method, name)
    return f"can_{name}", view.class_permission_name


@pytest.mark.parametrize("role", ["clerk", "leader", "head", "specialist", "legal", "agency_admin"])
def test_each_lower_role_is_refused_what_it_is_not_granted(app, world, logged_in, role):
    granted = _granted(role)
    c = logged_in(world["accounts"][role])
    ids = _agency_ids(world["a"].id)
    fab_tables = _fab_tables()
    problems: list[str] = []
    for rule in _rules(app):
        if "GET" not in rule.methods:
            continue
        perm = _permission_of(rule.endpoint)
        if perm is None or perm in granted:
            continue  # the role may use it, or it is not a permission-checked page (walked above)
        for url in _urls(rule, ids, fab_tables)[:2]:
            resp = c.get(url)
            if resp.status_code not in (302, 403, 404) or (
                    resp.status_code == 302 and "/login" not in resp.headers.get("Location", "")
                    and "/account/password" not in resp.headers.get("Location", "")):
                problems.append(f"{role} {url} ({perm[0]} on {perm[1]}): {resp.status_code}")
    assert not problems, "\n".join(problems)


def test_anonymous_visitors_are_sent_to_the_login_page(app, world, client_for):
    c = client_for(world["accounts"]["clerk"].host)
    ids = _agency_ids(world["a"].id)
    fab_tables = _fab_tables()
    problems = []
    for rule in _rules(app):
        if "GET" not in rule.methods:
            continue
        for url in _urls(rule, ids, fab_tables)[:1]:
            resp = c.get(url)
            if resp.status_code == 302 and "/login" in resp.headers["Location"]:
                continue
            if resp.status_code == 302 and rule.endpoint.endswith(".action"):
                continue  # FAB's action URL sends anonymous visitors to the home page: nothing shown
            if resp.status_code in (401, 403, 404, 405):
                continue
            problems.append(f"anonymous {url}: {resp.status_code}")
    assert not problems, "\n".join(problems)
