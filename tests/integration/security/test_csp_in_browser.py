"""The pages pass their own Content-Security-Policy in a real browser (Debian's Chromium via Playwright)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing")]


@pytest.fixture
def live_port(app: Any) -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    thread.join(timeout=5)


def test_login_and_admin_pages_log_no_csp_violation(live_port, make_agency, make_account):
    from playwright.sync_api import sync_playwright

    a = make_agency()
    admin = make_account(a.code, ["agency_admin"])
    base = f"http://{admin.host}:{live_port}"
    messages: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page()
        page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
        page.goto(f"{base}/login/")
        page.fill("input[name=username]", admin.email)
        page.fill("input[name=password]", admin.password)
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_load_state("networkidle")
        for path in ("/staffadminview/list/", "/departmentadminview/add", "/audit/", "/account/password"):
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            assert "/login" not in page.url, path
        # The select2 widgets of the add form are built by scripts: proof the scripts ran under the CSP.
        page.goto(base + "/staffadminview/add")
        page.wait_for_load_state("networkidle")
        assert page.locator(".select2-container").count() > 0
        browser.close()
    violations = [m for m in messages if "Content Security Policy" in m or "Refused to" in m]
    assert not violations, "\n".join(violations)
    assert not [m for m in messages if m.startswith("pageerror")], messages
