"""Designer fixtures: a fresh agency with an agency admin, the validation context, diagram edits."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "bpmn"


def template(key: str) -> str:
    return (ROOT / "processes" / "templates" / f"{key}.bpmn").read_text(encoding="utf-8")


def with_check_step(xml: str) -> str:
    """The incoming template with a clerk step "Kiểm tra thể thức" between registering and assigning."""
    step = (
        '<bpmn:userTask id="check_format" name="Kiểm tra thể thức">'
        '<bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formKey" value="incoming_register" />'
        '<spiffworkflow:property name="dueDays" value="1" />'
        '</spiffworkflow:properties></bpmn:extensionElements>'
        '<bpmn:incoming>Flow_registered</bpmn:incoming><bpmn:outgoing>Flow_checked</bpmn:outgoing>'
        '</bpmn:userTask>\n'
        '    <bpmn:sequenceFlow id="Flow_checked" sourceRef="check_format" targetRef="assign" />\n    '
    )
    xml = xml.replace('<bpmn:flowNodeRef>register</bpmn:flowNodeRef>',
                      '<bpmn:flowNodeRef>register</bpmn:flowNodeRef>\n        <bpmn:flowNodeRef>check_format</bpmn:flowNodeRef>')
    xml = xml.replace('<bpmn:sequenceFlow id="Flow_registered" sourceRef="register" targetRef="assign" />',
                      '<bpmn:sequenceFlow id="Flow_registered" sourceRef="register" targetRef="check_format" />')
    xml = re.sub(r'(<bpmn:userTask id="assign" .*?)<bpmn:incoming>Flow_registered</bpmn:incoming>',
                 r'\1<bpmn:incoming>Flow_checked</bpmn:incoming>', xml, flags=re.S)
    return xml.replace('<bpmn:endEvent id="EndEvent_1"', step + '<bpmn:endEvent id="EndEvent_1"', 1)


@dataclass
class AdminSetup:
    agency: Any
    admin: Any
    client: Any
    clerk: Any


@pytest.fixture
def ctx(app: Any) -> Any:
    from app.designer.diagrams import validation_context

    return validation_context(None, forms_dir=app.config["QLVB_FORMS_DIR"], processes_dir=app.config["QLVB_PROCESSES_DIR"])


@pytest.fixture
def agency_admin(make_agency: Callable[..., Any], make_account: Callable[..., Any],
                 logged_in: Callable[..., Any]) -> AdminSetup:
    agency = make_agency()
    admin = make_account(agency.code, ["agency_admin"], name="Trần Quản Trị")
    clerk = make_account(agency.code, ["clerk"], department_code="vp", name="Lê Văn Thư")
    return AdminSetup(agency, admin, logged_in(admin), clerk)
