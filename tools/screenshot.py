#!/usr/bin/env python3
"""Screenshot QLVB pages as a logged-in official (headless Debian Chromium via Playwright; no browser download).

    .venv/bin/python tools/screenshot.py http://isotttt.localhost:5000 EMAIL PASSWORD /inbox/ out.png [/path out2.png ...]
"""

from __future__ import annotations

import sys

from playwright.sync_api import sync_playwright


def main(argv: list[str]) -> int:
    base, email, password, *pairs = argv
    if not pairs or len(pairs) % 2:
        print(__doc__)
        return 2
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu", "--lang=vi", "--disable-background-networking",
                                          "--host-resolver-rules=MAP *.localhost 127.0.0.1"])
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="vi-VN")
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(base + "/login/")
        page.fill("#username", email)
        page.fill("#password", password)
        page.click("input[type=submit]")
        page.wait_for_load_state("networkidle")
        for path, out in zip(pairs[::2], pairs[1::2], strict=True):
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(400)
            page.screenshot(path=out, full_page=True)
            print(out)
        browser.close()
        for e in errors:
            print("console error:", e)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
