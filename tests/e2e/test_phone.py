"""Phone size (390 × 844): the staff pages fit the screen without sideways scrolling, the designer says it is
read-only there, and QLVB installs as a web app whose service worker keeps the shell and answers offline
(issue #15 item 6). Screenshots go to the scratch folder (or docs/screenshots with QLVB_SCREENSHOTS=docs)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from app.tenancy import roles as R
from tests.support.browser import CHROMIUM, DIST, ROOT, Console, chromium, login, serve
from tests.support.staff_world import seed_world

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not (DIST / "qlvb.js").exists(), reason="JS bundles not built (run `make assets`)"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]

SCREENSHOTS = ROOT / "docs" / "screenshots" if os.environ.get("QLVB_SCREENSHOTS") == "docs" else Path(
    tempfile.gettempdir()) / "qlvb-screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "vi-VN"}

WIDEST = """
() => {
  const limit = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > limit + 1 && getComputedStyle(el).position !== 'fixed') {
      wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
                ' ' + Math.round(box.right));
    }
  }
  return {scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 8)};
}
"""


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"phone-{name}.png"), full_page=True)


def test_staff_pages_fit_a_390px_phone_and_the_designer_is_read_only(
    app: Any, make_agency: Any, make_account: Any
) -> None:
    world = seed_world(make_agency, make_account, name="Sở Thử nghiệm Điện thoại", abbreviation="STNDT")
    pages = {
        R.LEADER: [("inbox", "/inbox/"), ("task-assign", f"/tasks/{world.tasks['assign']}"),
                   ("document", f"/documents/{world.waiting_assign}"), ("search", "/search/?q=công nghệ thông tin"),
                   ("calendar", "/calendar/")],
        R.SPECIALIST: [("task-process", f"/tasks/{world.tasks['process']}")],
        R.HEAD: [("task-review", f"/tasks/{world.tasks['review']}"),
                 ("outgoing-document", f"/documents/{world.outgoing_draft}")],
        R.CLERK: [("incoming", "/documents/incoming/"), ("outgoing", "/documents/outgoing/"),
                  ("register-form", "/documents/incoming/new")],
    }
    too_wide: dict[str, Any] = {}
    with serve(app) as port, chromium() as browser:
        base = f"http://{world.host}:{port}"
        for role, paths in pages.items():
            context = browser.new_context(**PHONE)
            page = context.new_page()
            console = Console()
            console.attach(page)
            login(page, base, world.accounts[role].email, world.accounts[role].password)
            for name, path in paths:
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                measured = page.evaluate(WIDEST)
                if measured["scroll"] > 390:
                    too_wide[path] = measured
                _shot(page, name)
            assert not console.take(), role
            context.close()

        context = browser.new_context(**PHONE)
        page = context.new_page()
        login(page, base, world.accounts[R.AGENCY_ADMIN].email, world.accounts[R.AGENCY_ADMIN].password)
        page.goto(f"{base}/designer/process/incoming/")
        page.wait_for_selector("#qlvb-modeler.qlvb-ready", timeout=20000)
        assert page.is_visible("#qlvb-designer-narrow")
        assert "Chỉ xem trên màn hình nhỏ" in page.inner_text("#qlvb-designer-narrow")
        assert not page.is_visible(".djs-palette") and not page.is_visible(".qlvb-publish")
        assert not page.is_visible("#qlvb-panel")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        _shot(page, "designer")
        context.close()

        wide = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
        page = wide.new_page()
        login(page, base, world.accounts[R.AGENCY_ADMIN].email, world.accounts[R.AGENCY_ADMIN].password)
        page.goto(f"{base}/designer/process/incoming/")
        page.wait_for_selector("#qlvb-modeler.qlvb-ready", timeout=20000)
        assert not page.is_visible("#qlvb-designer-narrow") and page.is_visible(".djs-palette")
        wide.close()
    assert not too_wide, json.dumps(too_wide, ensure_ascii=False, indent=1)


def test_installable_web_app_with_a_service_worker_that_keeps_the_shell(
    app: Any, make_agency: Any, make_account: Any
) -> None:
    agency = make_agency(name="Sở Thử nghiệm Ứng dụng")
    leader = make_account(agency.code, [R.LEADER], name="Phạm Văn Lãnh Đạo")
    with serve(app) as port, chromium() as browser:
        base = f"http://{agency.code}.localhost:{port}"
        context = browser.new_context(**PHONE)
        page = context.new_page()
        console = Console()
        console.attach(page)
        login(page, base, leader.email, leader.password)
        page.goto(base + "/inbox/")
        href = page.get_attribute("link[rel=manifest]", "href")
        manifest = page.evaluate("async (u) => { const r = await fetch(u); return [r.headers.get('content-type'),"
                                 " await r.json()]; }", href)
        kind, body = manifest
        assert kind.startswith("application/manifest+json")
        assert body["lang"] == "vi" and body["display"] == "standalone" and body["start_url"] == "/inbox/"
        assert {i["sizes"] for i in body["icons"]} == {"192x192", "512x512"}
        for icon in body["icons"]:
            status, size = page.evaluate("async (u) => { const r = await fetch(u); const b = await r.blob();"
                                         " return [r.status, b.size]; }", icon["src"])
            assert status == 200 and size > 500, icon

        # The worker registers for the whole site and keeps the shell in its cache.
        scope = page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
        assert scope == base + "/"
        page.wait_for_function("async () => (await caches.keys()).some((k) => k.startsWith('qlvb-shell-'))")
        cached = page.evaluate("""async () => {
            const name = (await caches.keys()).find((k) => k.startsWith('qlvb-shell-'));
            return (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
        }""")
        assert "/offline" in cached and "/assets/dist/qlvb.js" in cached
        assert "/static/appbuilder/css/bootstrap.min.css" in cached
        assert not any(p.startswith(("/inbox", "/tasks", "/documents")) for p in cached)  # no page is kept
        sw = page.evaluate("async () => { const r = await fetch('/sw.js'); return [r.headers.get('content-type'),"
                           " r.headers.get('content-security-policy') || '']; }")
        assert sw[0].startswith("text/javascript") and "script-src 'self'" in sw[1]

        # Without network, a page asks gets the Vietnamese offline notice instead of the browser's error page.
        page.reload()
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        context.set_offline(True)
        page.goto(base + "/documents/incoming/")
        assert "Không có kết nối mạng" in page.inner_text("body")
        _shot(page, "offline")
        context.set_offline(False)
        assert not [e for e in console.take() if "ERR_INTERNET_DISCONNECTED" not in e]
        context.close()
