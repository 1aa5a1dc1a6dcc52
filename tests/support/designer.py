"""Diagram edits shared by the designer's unit, integration and browser tests."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "bpmn"


def template(key: str) -> str:
    return (ROOT / "processes" / "templates" / f"{key}.bpmn").read_text(encoding="utf-8")


def with_check_step(xml: str) -> str:
    """The incoming template with a clerk step "Kiểm tra thể thức" between registering and assigning."""
    step = (
        '<bpmn:userTask id="check_format" name="Kiểm tra thể thức" qlvb:stepKind="task">'
        '<bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formKey" value="incoming_register" />'
        '<spiffworkflow:property name="dueDays" value="1" />'
        '</spiffworkflow:properties></bpmn:extensionElements>'
        '<bpmn:incoming>Flow_registered</bpmn:incoming><bpmn:outgoing>Flow_checked</bpmn:outgoing>'
        '</bpmn:userTask>\n'
        '    <bpmn:sequenceFlow id="Flow_checked" sourceRef="check_format" targetRef="assign" />\n    '
    )
    xml = xml.replace("<bpmn:flowNodeRef>register</bpmn:flowNodeRef>",
                      "<bpmn:flowNodeRef>register</bpmn:flowNodeRef>"
                      "<bpmn:flowNodeRef>check_format</bpmn:flowNodeRef>")
    xml = xml.replace('<bpmn:sequenceFlow id="Flow_registered" sourceRef="register" targetRef="assign" />',
                      '<bpmn:sequenceFlow id="Flow_registered" sourceRef="register" targetRef="check_format" />')
    xml = re.sub(r'(<bpmn:userTask id="assign" .*?)<bpmn:incoming>Flow_registered</bpmn:incoming>',
                 r'\1<bpmn:incoming>Flow_checked</bpmn:incoming>', xml, flags=re.S)
    return xml.replace('<bpmn:endEvent id="EndEvent_1"', step + '<bpmn:endEvent id="EndEvent_1"', 1)
