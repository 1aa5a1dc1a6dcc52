"""The contract between a diagram and the domain (issue #12): step kinds instead of element ids, and every
problem of a diagram named at save, import and publish."""

from __future__ import annotations

import re
from html import unescape
from io import BytesIO
from typing import Any

import pytest

from app.designer import diagrams
from app.documents import queries as document_queries
from app.documents import services as documents
from app.extensions import db
from app.workflow import queries as wfq
from app.workflow import services as wf
from app.workflow.errors import DiagramInvalidError
from app.workflow.info import ActorRef
from tests.integration.designer.conftest import FIXTURES, template
from tests.integration.documents.conftest import incoming_data


def _renamed(xml: str) -> str:
    """Every user task, gateway and flow gets another id (as a diagram from another modeler would have)."""
    ids = re.findall(r'<bpmn:(?:userTask|serviceTask|exclusiveGateway|sequenceFlow) id="([^"]+)"', xml)
    for n, old in enumerate(ids):
        new = f"Activity_{n:04d}x"
        for before, after in ((f'id="{old}"', f'id="{new}"'), (f'Ref="{old}"', f'Ref="{new}"'),
                              (f'bpmnElement="{old}"', f'bpmnElement="{new}"'),
                              (f'default="{old}"', f'default="{new}"'),
                              (f'id="{old}_di"', f'id="{new}_di"'), (f">{old}<", f">{new}<")):
            xml = xml.replace(before, after)
    return xml


def _actors(make_account: Any, code: str, agency_id: int, depts: dict[str, int]) -> dict[str, ActorRef]:
    out = {}
    for role, dept in (("clerk", "vp"), ("leader", None), ("head", "nv"), ("specialist", "nv")):
        account = make_account(code, [role], department_code=dept, name=f"Cán bộ {role}")
        out[role] = ActorRef(account.user_id, agency_id, frozenset({role}), depts[dept] if dept else None)
    db.session.commit()
    return out


def _route(agency_id: int, a: dict[str, ActorRef], depts: dict[str, int]) -> Any:
    """Register, assign, process and confirm a document, finding each step by its kind only."""
    doc = documents.register_incoming(agency_id, actor=a["clerk"], data=incoming_data())

    def step(kind: str, actor: ActorRef, data: dict[str, Any]) -> None:
        (task,) = [t for t in wfq.open_tasks(doc.instance_id) if t.step_kind == kind]
        wf.complete_task(task.id, actor, data)

    step("assign", a["leader"], {"lead_department_id": depts["nv"]})
    if any(t.step_kind == "assign_person" for t in wfq.open_tasks(doc.instance_id)):
        step("assign_person", a["head"], {"specialist_id": a["specialist"].user_id})
    step("process", a["specialist"], {"result": "Đã xử lý", "request_reply": False})
    step("confirm", a["head"], {"decision": "approve"})
    db.session.commit()
    return doc


def test_renamed_ids_still_register_and_route(agency_admin: Any, make_account: Any, ctx: Any) -> None:
    from app.tenancy.queries import departments_of

    owner, by = agency_admin.agency.id, agency_admin.admin.user_id
    xml = _renamed(template("incoming"))
    assert 'id="register"' not in xml and 'id="assign"' not in xml
    diagrams.save(owner, "incoming", xml, by_user_id=by, ctx=ctx)
    version = diagrams.publish(owner, "incoming", "Mã bước theo công cụ khác", by_user_id=by, ctx=ctx)
    db.session.commit()
    depts = {d.code: d.id for d in departments_of(owner)}
    actors = _actors(make_account, agency_admin.agency.code, owner, depts)
    doc = _route(owner, actors, depts)
    info = wfq.get_instance(doc.instance_id)
    assert info.version_id == version.id and info.status == "completed"
    assert document_queries.get_document(owner, doc.id, actors["clerk"]).status == "done"


def _problems(xml: str, ctx: Any, key: str = "incoming") -> list[str]:
    with pytest.raises(DiagramInvalidError) as refused:
        diagrams._validate(xml, ctx, key)
    return [p.message_vi for p in refused.value.problems]


def test_contract_refusals_name_the_element(agency_admin: Any, ctx: Any) -> None:
    xml = template("incoming")
    no_register = xml.replace('qlvb:stepKind="register"', 'qlvb:stepKind="task"')
    assert any("phải có bước «Vào sổ văn bản đến»" in m for m in _problems(no_register, ctx))
    twice = xml.replace('qlvb:stepKind="confirm"', 'qlvb:stepKind="register"')
    assert any(m.startswith("Bước «Xác nhận kết quả xử lý» (mã confirm): quy trình chỉ được có một bước loại "
                            "«Vào sổ văn bản đến»") for m in _problems(twice, ctx))
    wrong_form = xml.replace('value="incoming_assign" />', 'value="incoming_process" />')
    assert any("cần biểu mẫu có trường «Đơn vị chủ trì» (lead_department_id)" in m for m in _problems(wrong_form, ctx))
    unknown_field = xml.replace('decision == "send_back"', 'ket_qua == "lam_lai"')
    assert any("(mã Flow_send_back): điều kiện dùng «ket_qua»" in m for m in _problems(unknown_field, ctx))
    timer = ('<bpmn:boundaryEvent id="Remind_1" name="Nhắc sau 7 ngày" attachedToRef="process" cancelActivity="false">'
             '<bpmn:timerEventDefinition id="TimerDef_1"><bpmn:timeDuration>{}</bpmn:timeDuration>'
             '</bpmn:timerEventDefinition></bpmn:boundaryEvent>')
    with_timer = xml.replace('<bpmn:endEvent id="EndEvent_1"', timer.format("P7 ngày") +
                             '<bpmn:endEvent id="EndEvent_1"', 1)
    assert any("Nhắc sau 7 ngày" in m and "ISO 8601" in m for m in _problems(with_timer, ctx))
    for good in ("P7D", "PT4H", '"P2D"'):  # written the way modelers write them
        ok = xml.replace('<bpmn:endEvent id="EndEvent_1"', timer.format(good) + '<bpmn:endEvent id="EndEvent_1"', 1)
        assert not [m for m in diagrams.problems_of(ok, ctx, "incoming") if "hẹn giờ" in m.message_vi]


def test_a_lane_nobody_in_the_agency_holds_is_refused(agency_admin: Any, app: Any) -> None:
    owner = agency_admin.agency.id
    agency_ctx = diagrams.validation_context(owner, forms_dir=app.config["QLVB_FORMS_DIR"],
                                             processes_dir=app.config["QLVB_PROCESSES_DIR"])
    legal = (FIXTURES.parents[2] / "processes" / "isotp" / "incoming.bpmn").read_text(encoding="utf-8")
    msgs = [p.message_vi for p in diagrams.problems_of(legal, agency_ctx, "incoming")]
    assert any(m.startswith("Làn «Pháp chế» (mã Lane_legal): không có chức vụ nào đang hoạt động của cơ quan giữ "
                            "vai trò «Pháp chế»") and "Giám đốc" in m for m in msgs)
    with pytest.raises(DiagramInvalidError):
        diagrams.save(owner, "incoming", legal, by_user_id=None, ctx=agency_ctx)
        diagrams.publish(owner, "incoming", "Thêm pháp chế", by_user_id=None, ctx=agency_ctx)
    db.session.rollback()


def test_a_foreign_diagram_is_mapped_to_a_runnable_draft(agency_admin: Any, make_account: Any, ctx: Any) -> None:
    from app.tenancy.queries import departments_of

    client, owner = agency_admin.client, agency_admin.agency.id
    depts = {d.code: d.id for d in departments_of(owner)}
    actors = _actors(make_account, agency_admin.agency.code, owner, depts)  # someone holds every lane's role
    data = (FIXTURES / "foreign_collaboration.bpmn").read_bytes()
    resp = client.form_post("/designer/process/incoming/import", {"file": (BytesIO(data), "ho_so.bpmn")},
                            from_page="/designer/process/incoming/import",
                            content_type="multipart/form-data")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/designer/process/incoming/mapping")
    page = unescape(client.get("/designer/process/incoming/mapping").get_data(as_text=True))
    # Data objects, the group, the message flow and the empty pool are not reported; the real problems are.
    assert "Văn bản đến" in page and "Giám đốc Sở" in page and "dataObject" not in page and "manualTask" not in page
    assert "bước chưa chọn loại" in page or "chưa chọn loại bước" in page
    choice = {
        "lane-L_vt": "clerk", "lane-L_gd": "leader", "lane-L_tp": "head", "lane-L_cv": "specialist",
        "kind-T_receive": "register", "form-T_receive": "incoming_register",
        "kind-T_assign": "assign", "form-T_assign": "incoming_assign",
        "kind-T_handle": "process", "form-T_handle": "incoming_process",
        "kind-T_check": "confirm", "form-T_check": "incoming_confirm",
        "cond-SF_done": "${decision != 'send_back'}", "cond-SF_back": "${decision == 'send_back'}",
    }
    resp = client.form_post("/designer/process/incoming/mapping", choice)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/designer/process/incoming/"), \
        unescape(client.get("/designer/process/incoming/mapping").get_data(as_text=True))
    draft_xml, _ = diagrams.editable_xml(owner, "incoming")
    assert 'qlvb:role="leader"' in draft_xml and 'decision == "send_back"' in draft_xml
    diagrams.publish(owner, "incoming", "Quy trình vẽ bằng Signavio", by_user_id=None, ctx=ctx)
    db.session.commit()
    doc = _route(owner, actors, depts)
    assert wfq.get_instance(doc.instance_id).status == "completed"
