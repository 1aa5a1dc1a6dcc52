"""The staff walk of both mandatory processes in a real browser, across two agencies (issue #15): a clerk, a leader,
a head and a specialist of agency A register a paper document (issue date picked in the date picker), assign,
process and confirm it; then draft a reply to agency B with a file, review, approve and sign it with the PIN and
issue it with the seal; B's clerk finds it waiting for registration with its metadata filled in and a valid
signature, registers it, and A's document page shows that B registered it. At 1366 px and at 390 px.

Only the seeding (agencies, accounts, keys) goes through Python; every step after it is a click or a keystroke.
Every page visited must have no console error (CSP violations are console errors) and nothing a Vietnamese official
must not read (tests/support/browser.forbidden_in). Screenshots of the key pages go to the scratch folder
(<tmp>/qlvb-screenshots/walk-*.png, or docs/screenshots with QLVB_SCREENSHOTS=docs)."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.core import clock
from app.extensions import db
from app.tenancy import roles as R
from tests.support.browser import CHROMIUM, DIST, ROOT, Console, chromium, forbidden_in, login, serve, visible_text
from tests.support.staff_world import NAMES, ROLE_DEPARTMENTS

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not (DIST / "qlvb.js").exists(), reason="JS bundles not built (run `make assets`)"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]

SCREENSHOTS = ROOT / "docs" / "screenshots" if os.environ.get("QLVB_SCREENSHOTS") == "docs" else Path(
    tempfile.gettempdir()) / "qlvb-screenshots"
LABELS = {"wide": "màn hình rộng", "phone": "điện thoại"}  # agency names must differ between the runs
SIZES = {
    "wide": {"viewport": {"width": 1366, "height": 900}, "locale": "vi-VN"},
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
              "has_touch": True, "locale": "vi-VN"},
}
WAIT = 30_000  # ms: the machine is shared with a CI run


@dataclass(frozen=True)
class Staff:
    code: str
    name: str
    host: str
    accounts: dict[str, Any]  # role -> tests.conftest.Account


def _staff(make_agency: Any, make_account: Any, *, name: str, abbreviation: str) -> Staff:
    agency = make_agency(name=name, abbreviation=abbreviation)
    accounts = {role: make_account(agency.code, [role], department_code=dept, name=NAMES[role])
                for role, dept in ROLE_DEPARTMENTS.items()}
    db.session.commit()  # end the read transaction: on SQLite it holds the write lock the server needs
    return Staff(agency.code, name, accounts[R.CLERK].host, accounts)


@dataclass
class Walk:
    """One browser, one viewport; each person signs in in a context of their own. Every page a step lands on is
    checked (console, forbidden words) and the key ones are photographed."""

    browser: Any
    port: int
    size: str
    problems: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)
    _sessions: dict[str, tuple[Any, Any, Console]] = field(default_factory=dict)

    def base(self, staff: Staff) -> str:
        return f"http://{staff.host}:{self.port}"

    def page_of(self, staff: Staff, role: str) -> Any:
        key = f"{staff.code}/{role}"
        if key not in self._sessions:
            context = self.browser.new_context(**SIZES[self.size])
            context.set_default_timeout(WAIT)
            context.set_default_navigation_timeout(WAIT)
            page = context.new_page()
            console = Console()
            console.attach(page)
            account = staff.accounts[role]
            login(page, self.base(staff), account.email, account.password)
            self._sessions[key] = (context, page, console)
        return self._sessions[key][1]

    def check(self, staff: Staff, role: str, shot: str | None = None) -> None:
        """What the user now sees: no console error, no English word or raw value; photographed if ``shot``."""
        _, page, console = self._sessions[f"{staff.code}/{role}"]
        page.wait_for_load_state("load")
        where = f"[{self.size} {staff.code}/{role} {page.url.split(str(self.port), 1)[-1]}]"
        bad = forbidden_in(visible_text(page))
        if bad:
            self.problems.append(f"{where} forbidden: {bad}")
        self.problems.extend(f"{where} console: {e}" for e in console.take())
        if shot:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            path = SCREENSHOTS / f"walk-{self.size}-{shot}.png"
            page.screenshot(path=str(path), full_page=True)
            self.shots.append(path)

    def goto(self, staff: Staff, role: str, path: str, shot: str | None = None) -> Any:
        page = self.page_of(staff, role)
        response = page.goto(self.base(staff) + path)
        assert response is not None and response.status == 200, f"{path}: HTTP {response and response.status}"
        self.check(staff, role, shot)
        return page

    def open_step(self, staff: Staff, role: str, document_id: int, step: str, shot: str | None = None) -> Any:
        """From the document's page, the button of the step waiting for this person."""
        page = self.goto(staff, role, f"/documents/{document_id}")
        button = page.locator(".alert-info").get_by_role("link", name=step, exact=True)
        assert button.count() == 1, f"{staff.code}/{role}: no step «{step}» on the document page:\n" + \
            page.inner_text("body")[:1500]
        with page.expect_navigation():
            button.click()
        assert re.search(r"/tasks/\d+$", page.url), page.url
        page.wait_for_selector("#qlvb-task-form")
        self.check(staff, role, shot)
        return page

    def finish_step(self, staff: Staff, role: str, page: Any, step: str) -> None:
        """Press «Hoàn thành»: back in the inbox with the confirmation."""
        with page.expect_navigation():
            page.locator("#qlvb-task-form").get_by_role("button", name="Hoàn thành").click()
        assert "/inbox/" in page.url, f"{step}: stayed on {page.url}:\n" + page.inner_text("body")[:2000]
        assert f"Đã hoàn thành: {step}." in page.inner_text("body")
        self.check(staff, role)

    def close(self) -> None:
        for context, _, _ in self._sessions.values():
            context.close()
        self._sessions.clear()


def _field(page: Any, label: str) -> Any:
    """The control labelled ``label`` (a required one's label ends with «*» and « (bắt buộc)» for screen readers)."""
    # (not re.escape: Playwright hands the pattern to JavaScript, where an escaped space is an error)
    literal = re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\1", label)
    return page.get_by_label(re.compile(rf"^{literal}\s*(?:\*\s*)?(?:\(bắt buộc\))?$"))


def _choose(control: Any, text: str) -> None:
    """Select (or tick, in a list of check boxes) the one option whose label reads ``text`` (a person's label may
    add their department)."""
    if control.evaluate("el => el.tagName") != "SELECT":
        control.get_by_label(text, exact=True).check()
        return
    options = [o.strip() for o in control.locator("option").all_inner_texts()]
    matching = [o for o in options if o == text] or [o for o in options if text in o]
    assert len(matching) == 1, f"«{text}» among {options}"
    control.select_option(label=matching[0])


def _pick_day(page: Any, label: str, day: dt.date, shoot: Callable[[], None] | None = None) -> None:
    """Open the date picker of the field called ``label`` and click ``day`` in its calendar (months back);
    ``shoot`` photographs the open calendar."""
    _field(page, label).click()
    calendar = page.locator(".flatpickr-calendar.open")
    calendar.wait_for(state="visible")
    today = clock.today()
    for _ in range((today.year - day.year) * 12 + today.month - day.month):
        calendar.locator(".flatpickr-prev-month").click()
    cell = calendar.locator(".flatpickr-day:not(.prevMonthDay):not(.nextMonthDay)").filter(
        has_text=re.compile(rf"^{day.day}$"))
    if shoot is not None:
        shoot()
    cell.click()
    calendar.wait_for(state="hidden")
    assert _field(page, label).input_value() == f"{day:%d/%m/%Y}"


def _document_id(page: Any) -> int:
    match = re.search(r"/documents/(\d+)$", page.url)
    assert match, page.url
    return int(match.group(1))


def _incoming_walk(walk: Walk, a: Staff, number: str) -> None:
    # The clerk registers a paper document; its date comes from the calendar (the 15th of last month).
    issued = (clock.today().replace(day=1) - dt.timedelta(days=1)).replace(day=15)
    page = walk.goto(a, R.CLERK, "/documents/incoming/new")
    _choose(_field(page, "Loại văn bản"), "Công văn")
    _field(page, "Số, ký hiệu văn bản").fill(number)
    _field(page, "Cơ quan ban hành").fill("Ủy ban nhân dân tỉnh Vĩnh Phúc")
    _pick_day(page, "Ngày văn bản", issued, shoot=lambda: walk.check(a, R.CLERK, "date-picker"))
    _field(page, "Trích yếu nội dung").fill("Về việc triển khai Kế hoạch chuyển đổi số năm 2027")
    _field(page, "Người ký").fill("Nguyễn Văn Bình")
    _field(page, "Số trang").fill("3")
    walk.check(a, R.CLERK, "register-form")
    with page.expect_navigation():
        page.get_by_role("button", name="Vào sổ").click()
    doc = _document_id(page)
    body = page.inner_text("body")
    assert "Đã lưu: " + number in body and f"{issued:%d/%m/%Y}" in body, body[:1500]
    walk.check(a, R.CLERK, "incoming-registered")

    # The leader assigns the lead department, with a deadline five working days ahead.
    page = walk.open_step(a, R.LEADER, doc, "Phân công xử lý", "task-assign")
    _choose(_field(page, "Đơn vị chủ trì"), "Phòng Nghiệp vụ")
    page.get_by_role("button", name="5 ngày làm việc").click()
    page.wait_for_function("() => document.querySelector('[name=deadline]').value !== ''")
    _field(page, "Ý kiến chỉ đạo").fill("Giao Phòng Nghiệp vụ chủ trì, báo cáo trước hạn.")
    walk.finish_step(a, R.LEADER, page, "Phân công xử lý")

    # The head of that department gives it to the specialist.
    page = walk.open_step(a, R.HEAD, doc, "Giao chuyên viên xử lý", "task-assign-person")
    _choose(_field(page, "Chuyên viên xử lý"), NAMES[R.SPECIALIST])
    _field(page, "Ghi chú cho chuyên viên").fill("Đồng chí nghiên cứu, tham mưu.")
    walk.finish_step(a, R.HEAD, page, "Giao chuyên viên xử lý")

    # The specialist processes it with a comment; the head confirms.
    page = walk.open_step(a, R.SPECIALIST, doc, "Xử lý văn bản", "task-process")
    _field(page, "Kết quả xử lý").fill("Đã xây dựng dự thảo kế hoạch triển khai.")
    walk.finish_step(a, R.SPECIALIST, page, "Xử lý văn bản")

    page = walk.open_step(a, R.HEAD, doc, "Xác nhận kết quả xử lý")
    page.get_by_label("Hoàn thành", exact=True).check()
    _field(page, "Ý kiến").fill("Đồng ý với kết quả xử lý.")
    walk.finish_step(a, R.HEAD, page, "Xác nhận kết quả xử lý")

    # The document's page tells the story in Vietnamese: who did each step, the comments, and what was entered.
    page = walk.goto(a, R.LEADER, f"/documents/{doc}")
    timeline = page.locator(".qlvb-timeline").inner_text()
    for seen in ("Hoàn thành bước: Vào sổ văn bản đến", NAMES[R.CLERK], "Hoàn thành bước: Phân công xử lý",
                 NAMES[R.LEADER], "Hoàn thành bước: Xử lý văn bản", NAMES[R.SPECIALIST],
                 "Hoàn thành bước: Xác nhận kết quả xử lý", NAMES[R.HEAD], "Đồng ý với kết quả xử lý.",
                 "Kết thúc quy trình"):
        assert seen in timeline, f"«{seen}» not in the timeline:\n{timeline}"
    assert "Đã xử lý xong" in page.inner_text("body")
    assert page.locator("table.qlvb-meta tr", has_text="Đơn vị chủ trì").inner_text().endswith("Phòng Nghiệp vụ")
    done = page.locator("details.qlvb-done-form", has=page.locator("summary", has_text="Xử lý văn bản"))
    done.locator("summary").click()
    assert "Đã xây dựng dự thảo kế hoạch triển khai." in done.inner_text()
    walk.check(a, R.LEADER, "incoming-done")


def _outgoing_walk(walk: Walk, a: Staff, b: Staff, pin: str, tmp_path: Path) -> None:
    summary = f"Về việc phối hợp triển khai nền tảng số {secrets.token_hex(2)}"
    draft_file = tmp_path / "du-thao.txt"
    draft_file.write_text("Bản thảo lần 1\n", encoding="utf-8")

    # The specialist drafts the reply to agency B, attaching the working file.
    page = walk.goto(a, R.SPECIALIST, "/documents/outgoing/new")
    _choose(_field(page, "Loại văn bản"), "Công văn")
    _field(page, "Trích yếu nội dung").fill(summary)
    _field(page, "Nội dung dự thảo").fill("Sở đề nghị Quý cơ quan phối hợp triển khai như sau.")
    _field(page, "Nơi nhận").fill(f"- {b.name};")
    _choose(_field(page, "Cơ quan nhận qua trục liên thông"), b.name)
    _choose(_field(page, "Người ký"), NAMES[R.LEADER])
    _field(page, "Tệp dự thảo (để trao đổi, không gửi đi)").set_input_files(str(draft_file))
    walk.check(a, R.SPECIALIST, "draft-form")
    with page.expect_navigation():
        page.get_by_role("button", name="Trình duyệt").click()
    doc = _document_id(page)
    assert "du-thao.txt" in page.inner_text("body")
    walk.check(a, R.SPECIALIST, "draft-saved")

    # The head reviews and sends it up; the leader approves and signs with the PIN.
    page = walk.open_step(a, R.HEAD, doc, "Kiểm tra dự thảo", "task-review")
    page.get_by_label("Đồng ý trình", exact=True).check()
    walk.finish_step(a, R.HEAD, page, "Kiểm tra dự thảo")

    page = walk.open_step(a, R.LEADER, doc, "Phê duyệt và ký số", "task-sign")
    page.get_by_label("Phê duyệt và ký số", exact=True).check()
    _field(page, "Mã PIN chứng thư số cá nhân").fill(pin)
    walk.finish_step(a, R.LEADER, page, "Phê duyệt và ký số")

    # The clerk issues it: the number is drawn, the seal goes on with the agency's PIN.
    page = walk.open_step(a, R.CLERK, doc, "Phát hành văn bản", "task-issue")
    _field(page, "Mã PIN chứng thư số của cơ quan").fill(pin)
    walk.finish_step(a, R.CLERK, page, "Phát hành văn bản")
    page = walk.goto(a, R.CLERK, f"/documents/{doc}")
    number = page.locator("table.qlvb-meta tr", has_text="Số, ký hiệu").locator("td").inner_text().strip()
    assert re.match(r"^\d+/", number), number

    # At B the clerk finds it waiting for registration, filled in, its signatures verified; and registers it.
    page = walk.goto(b, R.CLERK, "/documents/incoming/", "b-incoming-list")
    row = page.locator("tr", has_text=summary)
    assert "chờ vào sổ" in row.inner_text().lower(), row.inner_text()
    with page.expect_navigation():
        row.get_by_role("link").first.click()
    received = _document_id(page)
    walk.check(b, R.CLERK)
    page = walk.open_step(b, R.CLERK, received, "Vào sổ văn bản đến", "b-register")
    assert _field(page, "Số, ký hiệu văn bản").input_value() == number
    assert _field(page, "Trích yếu nội dung").input_value() == summary
    assert _field(page, "Cơ quan ban hành").input_value() == a.name
    assert _field(page, "Ngày văn bản").input_value() == f"{clock.today():%d/%m/%Y}"
    assert "Chữ ký số hợp lệ" in page.inner_text("body")
    walk.finish_step(b, R.CLERK, page, "Vào sổ văn bản đến")
    page = walk.goto(b, R.CLERK, f"/documents/{received}", "b-registered")
    assert number in page.inner_text("body")

    # Back at A, the document's page shows that B registered it.
    page = walk.goto(a, R.CLERK, f"/documents/{doc}", "outgoing-delivered")
    delivery = page.locator("table.qlvb-deliveries tr", has_text=b.name)
    assert "Đã vào sổ" in delivery.inner_text(), page.inner_text("body")[:3000]
    timeline = page.locator(".qlvb-timeline").inner_text()
    for seen in ("Hoàn thành bước: Phê duyệt và ký số", NAMES[R.LEADER], "Hoàn thành bước: Phát hành văn bản",
                 "Hệ thống thực hiện: Gửi văn bản điện tử", "Kết thúc quy trình"):
        assert seen in timeline, f"«{seen}» not in the timeline:\n{timeline}"


@pytest.mark.parametrize("size", list(SIZES))
def test_incoming_walk(size: str, app: Any, make_agency: Any, make_account: Any) -> None:
    a = _staff(make_agency, make_account, name=f"Sở Thử nghiệm Đến ({LABELS[size]})", abbreviation="STND")
    with serve(app) as port, chromium() as browser:
        walk = Walk(browser, port, size)
        _incoming_walk(walk, a, f"{secrets.randbelow(900) + 100}/UBND-VX")
        walk.close()
    assert not walk.problems, "\n".join(walk.problems)
    assert all(p.stat().st_size > 10_000 for p in walk.shots)


@pytest.mark.parametrize("size", list(SIZES))
def test_outgoing_walk_between_two_agencies(size: str, app: Any, make_agency: Any, make_account: Any,
                                            signing: Any, tmp_path: Path) -> None:
    a = _staff(make_agency, make_account, name=f"Sở Thử nghiệm Gửi ({LABELS[size]})", abbreviation="STNG")
    b = _staff(make_agency, make_account, name=f"Sở Thử nghiệm Nhận ({LABELS[size]})", abbreviation="STNN")
    signing.install_agency(a.code)
    signing.install_person(a.code, a.accounts[R.LEADER].email, NAMES[R.LEADER])
    with serve(app) as port, chromium() as browser:
        walk = Walk(browser, port, size)
        _outgoing_walk(walk, a, b, signing.pin, tmp_path)
        walk.close()
    assert not walk.problems, "\n".join(walk.problems)
    assert all(p.stat().st_size > 10_000 for p in walk.shots)
