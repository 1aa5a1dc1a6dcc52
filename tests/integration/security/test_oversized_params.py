"""Integers beyond 64 bits (and malformed numbers) in ids, years and pages: 400 or 404, never a 500.

Every GET route of the app is walked with each ``<int:…>`` set to 2**63, 2**64 and a 40-digit number, and
with year/page/id-like query parameters set to such values, as an official and as an agency admin.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from werkzeug.routing import IntegerConverter

HUGE = [str(2**63), str(2**64 + 1), "9" * 40, "-" + "9" * 30]
QUERY_NAMES = ("year", "page", "id", "agency_id", "version", "a", "b", "number", "month", "page_StaffAdminView",
               "psize_StaffAdminView", "_oc_StaffAdminView")
BAD = ["x", "1e400", "0x10", "１２"]  # not numbers at all (the last: full-width digits)


def _is_int(rule: Any, arg: str) -> bool:
    return isinstance(rule._converters[arg], IntegerConverter)


def _get_rules(app: Any) -> list[Any]:
    # Not logout: the walk would sign its own users out half-way.
    return [r for r in app.url_map.iter_rules() if "GET" in r.methods
            and not r.endpoint.endswith(("static", ".logout"))]


def _get(c: Any, url: str, **kw: Any) -> Any:
    """The answer, or the exception a 500 would have been (TESTING propagates it)."""
    try:
        return c.get(url, **kw)
    except Exception as exc:  # every unexpected failure is what this test looks for
        return exc


def _status(resp: Any) -> int:
    return 500 if isinstance(resp, Exception) else int(resp.status_code)


def _with_value(rule: Any, value: str) -> str:
    url = rule.rule
    for arg in rule.arguments:
        filler = value if _is_int(rule, arg) else {"filename": "x.csv", "fmt": "csv", "name": "delete",
                                                  "locale": "vi", "token": "x" * 32}.get(arg, "incoming")
        url = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?" + arg + ">", filler, url)
    return url


@pytest.fixture
def users(make_agency, make_account, logged_in):
    a = make_agency()
    clerk = logged_in(make_account(a.code, ["clerk", "leader"]))
    admin = logged_in(make_account(a.code, ["agency_admin"]))
    return {"clerk": clerk, "admin": admin}


def test_huge_ids_in_paths_are_404(app, users):
    problems = []
    walked = 0
    for rule in _get_rules(app):
        if not any(_is_int(rule, a) for a in rule.arguments):
            continue
        for value in HUGE[:3]:
            url = _with_value(rule, value)
            for who, c in users.items():
                walked += 1
                resp = _get(c, url)
                if _status(resp) >= 500:
                    problems.append(f"{who} {url}: {resp!r:.200}")
    assert walked > 50
    assert not problems, "\n".join(problems)


def test_huge_or_malformed_numbers_in_query_parameters_are_refused_not_500(app, users):
    problems = []
    walked = served = 0
    for rule in _get_rules(app):
        url = _with_value(rule, "1") if rule.arguments else rule.rule
        for value in [*HUGE, *BAD]:
            query = {name: value for name in QUERY_NAMES}
            for who, c in users.items():
                walked += 1
                resp = _get(c, url, query_string=query)
                served += _status(resp) in (200, 400)
                if _status(resp) >= 500:
                    problems.append(f"{who} {url}?…={value}: {resp!r:.200}")
                elif resp.status_code == 400 and value in HUGE:
                    body = resp.get_data(as_text=True)
                    if "Tham số" not in body and "không hợp lệ" not in body and "CSRF" not in body:
                        problems.append(f"{who} {url}?…={value}: 400 without a Vietnamese reason")
    assert walked > 500
    assert served > 100  # pages that really ran with the values, not refused at the door
    assert not problems, "\n".join(problems[:60])
