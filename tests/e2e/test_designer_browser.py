"""An agency admin adds a step to the incoming diagram in the real modeler (Debian's chromium), publishes it,
and a document started afterwards follows the new step while one started before keeps the old route."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from app.extensions import db
from app.workflow import queries, services
from app.workflow.info import ActorRef

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "app" / "web" / "static" / "dist" / "modeler.js"
# The README's screenshots are refreshed only on request (QLVB_SCREENSHOTS=docs), so a test run never
# rewrites tracked files; by default they go to a scratch folder and are still taken (rendering is exercised).
SCREENSHOTS = ROOT / "docs" / "screenshots" if os.environ.get("QLVB_SCREENSHOTS") == "docs" else Path(
    tempfile.gettempdir()) / "qlvb-screenshots"
CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not DIST.exists(), reason="JS bundles not built (run `make assets`)"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def live_server(app: Any) -> Iterator[int]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _complete_register(instance_id: int, clerk: ActorRef) -> str:
    (task,) = queries.open_tasks(instance_id)
    assert task.bpmn_id == "register"
    services.complete_task(task.id, clerk, {"summary": "Công văn đến số 12"})
    (following,) = queries.open_tasks(instance_id)
    return following.bpmn_id


ADD_STEP_JS = """
([x, y]) => {
  const modeler = window.qlvbModeler;
  const canvas = modeler.get('canvas');
  const box = canvas._container.getBoundingClientRect();
  const vb = canvas.viewbox();
  return [box.left + (x - vb.x) * vb.scale, box.top + (y - vb.y) * vb.scale];
}
"""

REWIRE_JS = """
(newId) => {
  const modeler = window.qlvbModeler;
  const registry = modeler.get('elementRegistry');
  const modeling = modeler.get('modeling');
  const task = registry.get(newId);
  const flow = registry.get('Flow_registered');
  modeling.reconnectEnd(flow, task, { x: task.x, y: task.y + task.height / 2 });
  modeling.connect(task, registry.get('assign'));
  modeler.get('selection').select(task);
  const lane = registry.filter((e) => e.type === 'bpmn:Lane'
    && (e.businessObject.flowNodeRef || []).some((n) => n.id === newId))[0];
  return lane ? lane.businessObject.name : null;
}
"""


def test_admin_adds_a_step_in_the_modeler_and_new_documents_follow_it(
    live_server: int, make_agency: Any, make_account: Any
) -> None:
    from playwright.sync_api import sync_playwright

    agency = make_agency(name="Sở Thử nghiệm Thiết kế")
    admin = make_account(agency.code, ["agency_admin"], name="Trần Quản Trị")
    clerk_account = make_account(agency.code, ["clerk"], department_code="vp", name="Lê Văn Thư")
    for role, name in (("leader", "Phạm Lãnh Đạo"), ("head", "Vũ Trưởng Phòng"), ("specialist", "Đỗ Chuyên Viên")):
        make_account(agency.code, [role], department_code=None if role == "leader" else "vp", name=name)
    clerk = ActorRef(user_id=clerk_account.user_id, agency_id=agency.id, roles=frozenset({"clerk"}))
    before = services.start_instance(agency.id, "incoming", subject_type="e2e", subject_id=1, data={}, actor=clerk)
    db.session.commit()
    base = f"http://{agency.code}.localhost:{live_server}"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1440, "height": 960}, locale="vi-VN")
        page.goto(f"{base}/login/")
        page.fill("input[name=username]", admin.email)
        page.fill("input[name=password]", admin.password)
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{base}/designer/process/incoming/")
        page.wait_for_selector("#qlvb-modeler.qlvb-ready", timeout=20000)

        # Palette → "Thêm bước người xử lý", dropped into the clerk lane to the right of "Vào sổ văn bản đến".
        existing = set(page.evaluate("() => window.qlvbModeler.get('elementRegistry').getAll().map((e) => e.id)"))
        page.click(".djs-palette [data-action='create.user-task']")
        x, y = page.evaluate(ADD_STEP_JS, [620, 155])
        page.mouse.move(x - 20, y)
        page.mouse.move(x, y)
        page.mouse.click(x, y)
        page.keyboard.press("Escape")
        new_ids = [i for i in page.evaluate(
            "() => window.qlvbModeler.get('elementRegistry').filter((e) => e.type === 'bpmn:UserTask').map((e) => e.id)"
        ) if i not in existing]
        assert len(new_ids) == 1, new_ids
        new_id = new_ids[0]
        assert page.evaluate(REWIRE_JS, new_id) == "Văn thư"  # lanes carry Vietnamese names; the role is qlvb:role

        # The QLVB panel: name and form of the new step.
        page.fill("#qlvb-panel [name=name]", "Kiểm tra thể thức")
        page.press("#qlvb-panel [name=name]", "Tab")
        page.select_option("#qlvb-panel [name=stepKind]", "task")  # a plain step: no effect on the document
        page.select_option("#qlvb-panel [name=formKey]", "incoming_register")
        page.fill("#qlvb-panel [name=dueDays]", "1")
        page.press("#qlvb-panel [name=dueDays]", "Tab")
        page.click("[data-qlvb-action=save]")
        page.wait_for_function("() => !document.getElementById('qlvb-status').textContent.includes('Đang lưu')")
        problems = page.inner_text("#qlvb-problems") if page.query_selector("#qlvb-problems") else ""
        assert "sơ đồ hợp lệ" in page.inner_text("#qlvb-status"), problems
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "designer.png"))

        page.fill(".qlvb-publish [name=note]", "Thêm bước kiểm tra thể thức trước khi trình lãnh đạo")
        with page.expect_navigation():
            page.click(".qlvb-publish [data-qlvb-action=publish]")
        assert "Đã ban hành phiên bản số 1" in page.content()

        published = services.current_version(agency.id, "incoming")
        template_version = published.base_template_version_id
        page.goto(f"{base}/designer/process/incoming/diff?a={template_version}&b={published.id}")
        page.wait_for_function("() => document.querySelectorAll('.qlvb-diagram.qlvb-ready').length === 2",
                               timeout=20000)
        assert "Thêm 1 bước" in page.content() and "Kiểm tra thể thức" in page.content()
        page.screenshot(path=str(SCREENSHOTS / "diff.png"), full_page=True)
        browser.close()

    db.session.expire_all()
    assert published.agency_id == agency.id and published.note.startswith("Thêm bước kiểm tra")
    after = services.start_instance(agency.id, "incoming", subject_type="e2e", subject_id=2, data={}, actor=clerk)
    db.session.commit()
    assert after.version_id == published.id and before.version_id != published.id
    assert _complete_register(before.id, clerk) == "assign"  # the running document keeps the old route
    assert _complete_register(after.id, clerk) == new_id  # the new one goes through the new step
    (step,) = queries.open_tasks(after.id)
    assert (step.name, step.form_key, step.candidate_role) == ("Kiểm tra thể thức", "incoming_register", "clerk")
    db.session.commit()
