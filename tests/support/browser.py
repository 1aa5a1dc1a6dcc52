"""Playwright on Debian's chromium against a live server on loopback: log in, watch the console, read what a user
sees."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DIST = ROOT / "app" / "web" / "static" / "dist"


@contextmanager
def serve(app: Any) -> Iterator[int]:
    """The app on a loopback port, in a thread (``*.localhost`` names resolve to loopback in chromium)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--lang=vi"])
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Console:
    """Errors the page logged (CSP violations are console errors) and uncaught exceptions."""

    errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: self.errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: uncaught {exc}"))
        # The console says "Failed to load resource" without the address: name it.
        page.on("response", lambda r: self.errors.append(f"{page.url}: HTTP {r.status} for {r.url}")
                if r.status >= 400 and r.request.resource_type not in ("document",) else None)

    def take(self) -> list[str]:
        out, self.errors = self.errors, []
        return out


def login(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("input[type=submit], button[type=submit]")
    assert "/login" not in page.url, f"login failed for {email}: {page.inner_text('body')[:300]}"


# What a Vietnamese official must never read: framework English, Python values, raw codes, UTC times.
FORBIDDEN_WORDS = (
    "Cancel", "OK", "Submit", "Save", "Delete", "Edit", "Search", "Back", "Close", "Next", "Previous", "Login",
    "Logout", "Record", "Records", "Actions", "Add", "Home", "List", "Show", "Yes", "No", "User", "Users",
    "Method Not Allowed", "Not Found", "Forbidden", "Internal Server Error", "Bad Request", "None", "True",
    "False", "null", "undefined", "NaN", "finished", "started", "completed", "pending", "open", "done",
    "clerk", "leader", "head", "specialist", "agency_admin", "soict_admin", "legal", "English",
)
_WORDS = re.compile(r"(?<![\w@./-])(" + "|".join(re.escape(w) for w in FORBIDDEN_WORDS) + r")(?![\w@/-])")
_RAW = (
    # snake_case codes: process keys, form keys, statuses (opinion_answer, in_progress, awaiting_registration)
    re.compile(r"(?<![\w@./-])[a-z]+(?:_[a-z0-9]+)+(?![\w@./-])"),
    re.compile(r"processes/templates"),
    # ISO or UTC-looking moments: 2026-12-03T07:00, 2026-12-03 07:00:00, +00:00, UTC, GMT
    re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"),
    re.compile(r"[+-]00:00|\bUTC\b|\bGMT\b"),
)


def forbidden_in(text: str) -> list[str]:
    """The forbidden tokens in ``text``, each once, in order of appearance."""
    found = [m.group(0) for m in _WORDS.finditer(text)]
    for pattern in _RAW:
        found.extend(m.group(0) for m in pattern.finditer(text))
    return list(dict.fromkeys(found))


VISIBLE_TEXT_JS = """
() => {
  const parts = [document.title, document.body ? document.body.innerText : ''];
  for (const el of document.querySelectorAll('input[type=submit], input[type=button], input[type=reset]')) {
    if (el.offsetParent !== null) parts.push(el.value);
  }
  for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    if (el.offsetParent !== null) parts.push(el.placeholder);
  }
  for (const el of document.querySelectorAll('[title], [aria-label]')) {
    if (el.offsetParent !== null || el === document.body) {
      parts.push(el.getAttribute('title') || '', el.getAttribute('aria-label') || '');
    }
  }
  return parts.join('\\n');
}
"""


def visible_text(page: Any) -> str:
    return str(page.evaluate(VISIBLE_TEXT_JS))
