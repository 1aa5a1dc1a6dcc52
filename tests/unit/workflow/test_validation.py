"""Diagram validation: every shipped diagram is valid, and each kind of problem is named precisely."""

from __future__ import annotations

import pytest

from app.workflow.errors import DiagramInvalidError
from app.workflow.loader import MAX_DIAGRAM_BYTES
from app.workflow.validation import validate_diagram
from tests.unit.workflow.conftest import FORMS, OPERATIONS, PROCESSES, ROLES, read

SHIPPED = sorted(str(p.relative_to(PROCESSES)) for p in PROCESSES.rglob("*.bpmn"))


@pytest.mark.parametrize("path", SHIPPED)
def test_every_shipped_diagram_is_valid(path: str) -> None:
    info = validate_diagram(read(path), known_roles=ROLES, known_forms=FORMS, known_operations=OPERATIONS)
    assert info.user_tasks and info.form_keys <= FORMS and info.lanes <= ROLES


def test_shipped_set_is_complete() -> None:
    assert {"templates/incoming.bpmn", "templates/outgoing.bpmn", "templates/task_assignment.bpmn",
            "templates/opinion_request.bpmn", "isotp/incoming.bpmn"} <= set(SHIPPED)


def problems(xml: str, **kw: object) -> list[str]:
    kwargs = {"known_roles": ROLES, "known_forms": FORMS, "known_operations": OPERATIONS, **kw}
    with pytest.raises(DiagramInvalidError) as info:
        validate_diagram(xml, **kwargs)  # type: ignore[arg-type]
    assert info.value.message.startswith("Sơ đồ quy trình có")
    return [p.message_vi for p in info.value.problems]


INCOMING = read("templates/incoming.bpmn")


def test_invalid_xml_names_the_line() -> None:
    msgs = problems(INCOMING.replace("</bpmn:process>", "</bpmn:proc>"))
    assert len(msgs) == 1 and "không phải XML hợp lệ (dòng" in msgs[0]


def test_entities_and_dtd_are_refused() -> None:
    evil = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    assert "DTD" in problems(evil)[0]


def test_oversized_file_is_refused() -> None:
    assert "quá lớn" in problems(INCOMING + " " * MAX_DIAGRAM_BYTES)[0]


def test_unknown_lane_names_the_lane_and_the_valid_roles() -> None:
    msgs = problems(INCOMING.replace('qlvb:role="leader"', 'qlvb:role="giam_doc"'))
    assert any(m.startswith("Làn «Lãnh đạo cơ quan» (mã Lane_leader): vai trò «giam_doc» không có trong danh mục")
               for m in msgs)


def test_missing_form_names_step_and_form() -> None:
    msgs = problems(INCOMING, known_forms=FORMS - {"incoming_assign"})
    assert msgs == ["Bước «Phân công xử lý» (mã assign): biểu mẫu «incoming_assign» không tồn tại"]


def test_user_task_without_form_key_or_lane() -> None:
    xml = INCOMING.replace('<spiffworkflow:property name="formKey" value="incoming_register" />', "")
    xml = xml.replace("<bpmn:flowNodeRef>register</bpmn:flowNodeRef>", "")
    msgs = problems(xml)
    assert any("(mã register): bước chưa chọn biểu mẫu" in m for m in msgs)
    assert any("(mã register): bước chưa nằm trong làn" in m for m in msgs)


def test_script_task_is_refused() -> None:
    xml = INCOMING.replace('<bpmn:serviceTask id="start_reply"', '<bpmn:scriptTask id="start_reply"').replace(
        "</bpmn:serviceTask>", "<bpmn:script>import os</bpmn:script></bpmn:scriptTask>"
    )
    msgs = problems(xml)
    assert any("«Tạo dự thảo văn bản trả lời» (mã start_reply): bước chạy kịch bản không được phép" in m
               for m in msgs)
    assert not any("scriptTask" in m for m in msgs)  # no XML tag names in front of the admin


def test_unsupported_element_is_refused() -> None:
    xml = INCOMING.replace('<bpmn:userTask id="assign"', '<bpmn:callActivity id="assign" calledElement="x"').replace(
        "</bpmn:userTask>\n    <bpmn:userTask id=\"assign_specialist\"",
        "</bpmn:callActivity>\n    <bpmn:userTask id=\"assign_specialist\"",
    )
    msgs = problems(xml)
    assert any("(mã assign): gọi quy trình khác chưa được hỗ trợ" in m for m in msgs)


def test_unsafe_condition_is_refused() -> None:
    xml = INCOMING.replace('decision == "send_back"', "__import__('os').system('id')")
    msgs = problems(xml)
    prefix = "Luồng «Trả lại xử lý lại» (mã Flow_send_back): Điều kiện không hợp lệ"
    assert any(m.startswith(prefix) and "__import__" in m for m in msgs)


def test_unregistered_operation_is_refused() -> None:
    msgs = problems(INCOMING, known_operations=set())
    assert msgs == ["Bước tự động «Tạo dự thảo văn bản trả lời» (mã start_reply): thao tác tự động "
                    "«documents.start_reply» chưa được đăng ký trong hệ thống"]


def test_reserved_ids_are_refused() -> None:
    xml = INCOMING.replace('"StartEvent_1"', '"Start"').replace(">StartEvent_1<", ">Start<")
    assert any("mã «Start» trùng với tên dành riêng" in m for m in problems(xml))


def test_a_process_not_marked_executable_is_run_all_the_same() -> None:
    """Foreign modelers leave the flag off: the one process with steps is the one to run."""
    info = validate_diagram(INCOMING.replace('isExecutable="true"', 'isExecutable="false"'), known_roles=ROLES,
                            known_forms=FORMS, known_operations=OPERATIONS)
    assert info.process_id == "incoming"


def test_gateway_flow_without_condition() -> None:
    xml = INCOMING.replace(' default="Flow_done"', "")
    assert any("(mã Flow_done): nhánh ra từ Cổng rẽ nhánh" in m for m in problems(xml))


def test_message_event_is_refused() -> None:
    xml = INCOMING.replace(
        '<bpmn:endEvent id="EndEvent_1" name="Hoàn thành">',
        '<bpmn:endEvent id="EndEvent_1" name="Hoàn thành"><bpmn:messageEventDefinition id="M1" />',
    )
    assert any("sự kiện thông điệp chưa được hỗ trợ" in m for m in problems(xml))


def test_all_problems_are_collected_at_once() -> None:
    xml = INCOMING.replace('qlvb:role="leader"', 'qlvb:role="boss"').replace('decision == "send_back"', "a.b")
    msgs = problems(xml, known_forms=FORMS - {"incoming_confirm"}, known_operations=set())
    assert len(msgs) >= 4
