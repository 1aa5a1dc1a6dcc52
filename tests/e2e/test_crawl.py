"""Every page a member of staff can reach from the menu, and every link one level deep within the agency, as each
role of two agencies and as the SoICT admin: no English UI word, raw code, Python value or UTC time in what the user
reads, no error status, and nothing in the browser console (CSP violations are console errors). Issue #15 item 4."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from app.tenancy import roles as R
from tests.support.browser import CHROMIUM, DIST, Console, chromium, forbidden_in, login, serve, visible_text
from tests.support.staff_world import seed_world

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not (DIST / "viewer.js").exists(), reason="JS bundles not built (run `make assets`)"),
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]

ROLES = (R.CLERK, R.LEADER, R.HEAD, R.SPECIALIST, R.AGENCY_ADMIN)
# Links that leave the session or the language, and actions a GET must not be crawled into.
SKIP = re.compile(r"^/(logout|lang|login)/|/(delete|download|export)\b")
# Pages of one shape (a document, a task) are visited twice at most: their template is what is under test.
PER_SHAPE = 2


HEAD_JS = """
async (path) => {
  const r = await fetch(path, {method: 'HEAD', credentials: 'same-origin', redirect: 'follow'});
  return [r.status, r.headers.get('content-type') || ''];
}
"""


def _shape(path: str) -> str:
    """Pages of one template: ids and keys (incoming_register, opinion_answer) stand for any other."""
    return re.sub(r"[a-z]+(?:_[a-z0-9]+)+", "K", re.sub(r"\d+", "N", path))


class Crawl:
    def __init__(self, page: Any, base: str, console: Console):
        self.page, self.base, self.console = page, base, console
        self.host = urlsplit(base).netloc
        self.seen: set[str] = set()
        self.shapes: dict[str, int] = {}
        self.problems: list[str] = []

    def _local(self, href: str | None, here: str) -> str | None:
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            return None
        url = urljoin(here, href)
        parts = urlsplit(url)
        if parts.netloc != self.host or SKIP.search(parts.path):
            return None
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def _links(self, selector: str) -> list[str]:
        here = self.page.url
        hrefs = self.page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('href'))")
        return [u for u in (self._local(h, here) for h in hrefs) if u]

    def visit(self, path: str) -> list[str]:
        """Open ``path`` and check it; return the local links on it (none if it is not an HTML page)."""
        if path in self.seen:
            return []
        self.seen.add(path)
        shape = _shape(path.split("?")[0])
        self.shapes[shape] = self.shapes.get(shape, 0) + 1
        if self.shapes[shape] > PER_SHAPE:
            return []
        # Ask first from inside the page (Playwright's own HTTP client does not resolve *.localhost): a file, a
        # feed or JSON is only checked for its status, never opened as a page.
        status, kind = self.page.evaluate(HEAD_JS, path)
        if status >= 400:
            self.problems.append(f"{path}: HTTP {status}")
            return []
        if "text/html" not in kind:
            return []
        response = self.page.goto(self.base + path)
        self.page.wait_for_load_state("load")
        if response is not None and response.status >= 400:
            self.problems.append(f"{path}: HTTP {response.status}")
        bad = forbidden_in(visible_text(self.page))
        if bad:
            self.problems.append(f"{path}: {bad}")
        self.problems.extend(self.console.take())
        return self._links("a[href]")

    def run(self) -> None:
        self.page.goto(self.base + "/")
        menu = ["/", *self._links(".navbar a[href]")]
        deeper: list[str] = []
        for path in dict.fromkeys(menu):
            deeper.extend(self.visit(path))
        for path in dict.fromkeys(deeper):
            self.visit(path)


def _crawl(browser: Any, base: str, account: Any) -> tuple[list[str], int]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    page = context.new_page()
    console = Console()
    console.attach(page)
    login(page, base, account.email, account.password)
    crawl = Crawl(page, base, console)
    crawl.run()
    context.close()
    return crawl.problems, len(crawl.seen)


def test_no_raw_value_english_word_or_console_error_on_any_page(
    app: Any, make_agency: Any, make_account: Any
) -> None:
    worlds = [seed_world(make_agency, make_account, name="Sở Thử nghiệm Giao diện", abbreviation="STNGD"),
              seed_world(make_agency, make_account, name="Sở Kiểm thử Hiển thị", abbreviation="SKTHT")]
    soict = make_account("qlvb", [R.SOICT_ADMIN], name="Nguyễn Quản Trị Tỉnh")
    problems: dict[str, list[str]] = {}
    pages = 0
    with serve(app) as port, chromium() as browser:
        for world in worlds:
            for role in ROLES:
                found, seen = _crawl(browser, f"http://{world.host}:{port}", world.accounts[role])
                pages += seen
                if found:
                    problems[f"{world.code}/{role}"] = found
        found, seen = _crawl(browser, f"http://{soict.host}:{port}", soict)
        pages += seen
        if found:
            problems["soict"] = found
    print(f"crawl: {pages} pages visited, {sum(map(len, problems.values()))} problems")
    assert pages > 100
    assert not problems, "\n".join(f"[{who}] {p}" for who, ps in problems.items() for p in ps)
