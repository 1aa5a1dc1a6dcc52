"""Processes an agency creates without code (issue #12.4): a name, what they are about, a start form, and a
diagram of generic steps that the admin shapes in the designer.

The workflow adapter learns these process kinds through ``steps.set_extra_process_kinds`` (see
``app.bootstrap``), so the contract check, the designer's kind picker and the inbox treat them like the
built-in ones. Their subjects are cases (``app.cases``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import or_, select

from app.core.errors import ValidationError
from app.core.text import fold, nfc
from app.extensions import db
from app.tenancy import roles as R
from app.workflow.steps import GENERIC_KINDS, ProcessKindInfo

from .audit import record_change
from .models import ProcessDefinition

SUBJECT_TYPE = "case"
KEY_PREFIX = "p_"
# What every case's instance starts with, besides the start form's fields.
CASE_START_FIELDS = ("case_id", "title")


@dataclass(frozen=True)
class ProcessDefinitionInfo:
    id: int
    agency_id: int | None
    key: str
    name: str
    description: str
    start_form_key: str | None
    active: bool


def _info(row: ProcessDefinition) -> ProcessDefinitionInfo:
    return ProcessDefinitionInfo(id=row.id, agency_id=row.agency_id, key=row.key, name=row.name,
                                 description=row.description, start_form_key=row.start_form_key, active=row.active)


def _kind(row: ProcessDefinition) -> ProcessKindInfo:
    return ProcessKindInfo(key=row.key, label=row.name, subject_type=SUBJECT_TYPE, steps=GENERIC_KINDS, required=(),
                           start_fields=CASE_START_FIELDS, description=row.description or "")


def process_kinds_from_definitions() -> Iterable[ProcessKindInfo]:
    """Every defined process, as a kind the workflow adapter knows (read when a key is not built in)."""
    return [_kind(row) for row in db.session.scalars(select(ProcessDefinition))]


def definitions_for(agency_id: int | None, *, active_only: bool = True) -> list[ProcessDefinitionInfo]:
    """The agency's own processes and SoICT's shared ones (SoICT itself: its own only)."""
    stmt = select(ProcessDefinition)
    if agency_id is None:
        stmt = stmt.where(ProcessDefinition.agency_id.is_(None))
    else:
        stmt = stmt.where(or_(ProcessDefinition.agency_id == agency_id, ProcessDefinition.agency_id.is_(None)))
    if active_only:
        stmt = stmt.where(ProcessDefinition.active.is_(True))
    return [_info(r) for r in db.session.scalars(stmt.order_by(ProcessDefinition.name))]


def definition(key: str) -> ProcessDefinitionInfo | None:
    row = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key))
    return _info(row) if row is not None else None


def _new_key(name: str) -> str:
    base = KEY_PREFIX + (re.sub(r"[^a-z0-9]+", "_", fold(name)).strip("_")[:40] or "quy_trinh")
    key, n = base, 2
    while db.session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.key == key)) is not None:
        key, n = f"{base}_{n}", n + 1
    return key


def starting_diagram(key: str, name: str, role: str) -> str:
    """Start → "Xử lý" (a generic step in the chosen role's lane) → end, with its drawing, ready to shape."""
    lane_name = R.role_label(role)
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  xmlns:qlvb="https://qlvb.vinhphuc.gov.vn/schema/bpmn/1.0" id="Defs_{key}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:collaboration id="Collab_{key}">
    <bpmn:participant id="Part_{key}" name={quoteattr(name)} processRef="{key}" />
  </bpmn:collaboration>
  <bpmn:process id="{key}" name={quoteattr(name)} isExecutable="true">
    <bpmn:laneSet id="LaneSet_{key}">
      <bpmn:lane id="Lane_main" name={quoteattr(lane_name)} qlvb:role="{escape(role)}">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>handle</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="Bắt đầu"><bpmn:outgoing>f_start</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="handle" name="Xử lý" qlvb:stepKind="task">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="case_result" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f_start</bpmn:incoming><bpmn:outgoing>f_done</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end" name="Hoàn thành"><bpmn:incoming>f_done</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="handle" />
    <bpmn:sequenceFlow id="f_done" sourceRef="handle" targetRef="end" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram_{key}">
    <bpmndi:BPMNPlane id="Plane_{key}" bpmnElement="Collab_{key}">
      <bpmndi:BPMNShape id="Part_{key}_di" bpmnElement="Part_{key}" isHorizontal="true">
        <dc:Bounds x="120" y="80" width="600" height="160" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Lane_main_di" bpmnElement="Lane_main" isHorizontal="true">
        <dc:Bounds x="150" y="80" width="570" height="160" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="212" y="142" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="handle_di" bpmnElement="handle"><dc:Bounds x="340" y="120" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="end_di" bpmnElement="end"><dc:Bounds x="552" y="142" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f_start_di" bpmnElement="f_start"><di:waypoint x="248" y="160" />
        <di:waypoint x="340" y="160" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f_done_di" bpmnElement="f_done"><di:waypoint x="440" y="160" />
        <di:waypoint x="552" y="160" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
'''


def define_process(owner_id: int | None, *, name: str, description: str, start_form_key: str | None, role: str,
                   known_forms: Iterable[str], by_user_id: int | None) -> ProcessDefinitionInfo:
    """Create the process and its first draft diagram; the admin shapes and publishes it in the designer."""
    from app.workflow import services as wf

    clean = nfc((name or "").strip())
    errors: dict[str, list[str]] = {}
    if not 3 <= len(clean) <= 200:
        errors["name"] = ["Tên quy trình dài từ 3 đến 200 ký tự"]
    if start_form_key and start_form_key not in set(known_forms):
        errors["start_form_key"] = ["Biểu mẫu không tồn tại"]
    if role not in R.WORKFLOW_ROLES:
        errors["role"] = ["Hãy chọn vai trò xử lý bước đầu tiên"]
    if errors:
        raise ValidationError("Chưa tạo được quy trình: " + "; ".join(m for ms in errors.values() for m in ms),
                              field_errors=errors)
    key = _new_key(clean)
    row = ProcessDefinition(agency_id=owner_id, key=key, name=clean, description=nfc((description or "").strip()),
                            start_form_key=start_form_key or None, created_by_id=by_user_id)
    db.session.add(row)
    db.session.flush()
    wf.save_draft(owner_id, key, starting_diagram(key, clean, role), by_user_id=by_user_id,
                  note="Sơ đồ khởi đầu của quy trình mới")
    record_change(agency_id=owner_id, actor_id=by_user_id, area="diagram", action="define_process", subject=key,
                  summary=f"Tạo quy trình mới “{clean}”", before=None, after={"key": key, "name": clean})
    return _info(row)


__all__ = ["CASE_START_FIELDS", "SUBJECT_TYPE", "ProcessDefinitionInfo", "define_process",
           "definition", "definitions_for", "process_kinds_from_definitions", "starting_diagram"]
