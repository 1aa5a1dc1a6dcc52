"""axe-core (the npm package, injected into Debian's chromium) on the pages staff use most: no critical and no
serious violation — lang="vi", a label on every control, contrast, names on links and buttons (issue #15 item 5).

The page under test keeps its CSP; only axe's own script is let in (bypass_csp), as a browser extension would be."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.tenancy import roles as R
from tests.support.browser import AXE, CHROMIUM, DIST, chromium, login, serve
from tests.support.staff_world import seed_world

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not (DIST / "qlvb.js").exists(), reason="JS bundles not built (run `make assets`)"),
    pytest.mark.skipif(not AXE.exists(), reason="axe-core not installed (run `make assets`)"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]

RUN_AXE = """
async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' — ' + (n.failureSummary || '').split('\\n')[1]),
  }));
}
"""


def violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    return [v for v in found if v["impact"] in ("critical", "serious")]


def test_main_pages_have_no_critical_or_serious_axe_violation(app: Any, make_agency: Any, make_account: Any) -> None:
    world = seed_world(make_agency, make_account, name="Sở Thử nghiệm Tiếp cận", abbreviation="STNTC")
    pages = {
        R.CLERK: ["/login/", "/documents/incoming/", "/documents/incoming/new"],
        R.LEADER: ["/inbox/", f"/tasks/{world.tasks['assign']}", f"/documents/{world.waiting_assign}",
                   "/search/?q=chuyển đổi số", "/calendar/"],
        R.HEAD: [f"/tasks/{world.tasks['review']}", f"/documents/{world.outgoing_draft}"],
        R.SPECIALIST: [f"/tasks/{world.tasks['process']}"],
        R.AGENCY_ADMIN: ["/designer/", "/designer/process/incoming/", "/staffadminview/list/"],
    }
    report: dict[str, list[dict[str, Any]]] = {}
    checked = 0
    with serve(app) as port, chromium() as browser:
        base = f"http://{world.host}:{port}"
        for role, paths in pages.items():
            context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN", bypass_csp=True)
            page = context.new_page()
            if paths[0] == "/login/":
                page.goto(base + "/login/")
                found = violations(page)
                checked += 1
                if found:
                    report["/login/"] = found
                paths = paths[1:]
            login(page, base, world.accounts[role].email, world.accounts[role].password)
            for path in paths:
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                assert page.evaluate("document.documentElement.lang") == "vi", path
                found = violations(page)
                checked += 1
                if found:
                    report[f"{role} {path}"] = found
            context.close()
    total = sum(len(v) for v in report.values())
    print(f"axe: {checked} pages, {total} critical or serious violations")
    assert checked == 14
    assert not report, json.dumps(report, ensure_ascii=False, indent=1)
