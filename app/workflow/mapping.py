"""The mapping step for a diagram drawn in another modeler (issue #12 item 3).

A foreign diagram speaks its own language: lanes named "Giám đốc" or "Văn phòng", tasks without a type,
manual tasks, branches without conditions, ``${x == 'a'}`` conditions. ``mapping_of`` reads what must be
decided; ``apply_mapping`` writes the admin's choices into the draft (lane → role, step → user step with a
kind and a form, branch → condition or default); what is left to fix is validated as for any draft.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from app.core.errors import ValidationError
from app.core.text import nfc
from app.workflow.loader import BPMN_NS, NS, SPIFF_NS, executable_processes, lane_role, parse_xml
from app.workflow.steps import QLVB_NS, ROLE_ATTR, STEP_KIND_ATTR, process_kind

# Task types a modeler may leave where QLVB needs a user step (manual, untyped, Camunda "task").
_CONVERTIBLE = ("task", "manualTask", "userTask", "sendTask", "receiveTask")
_EL = re.compile(r"^\s*[$#]\{\s*(.*?)\s*\}\s*$", re.S)


@dataclass(frozen=True)
class LaneChoice:
    element_id: str
    name: str
    role: str | None  # what the diagram says now, if it names a QLVB role


@dataclass(frozen=True)
class StepChoice:
    element_id: str
    name: str
    element_type: str  # the task's BPMN type
    kind: str | None
    form_key: str | None


@dataclass(frozen=True)
class BranchChoice:
    element_id: str
    gateway_id: str
    gateway_name: str
    name: str
    target_name: str
    condition: str  # QLVB syntax (``${x}`` already translated)
    is_default: bool


@dataclass(frozen=True)
class MappingInfo:
    lanes: tuple[LaneChoice, ...]
    steps: tuple[StepChoice, ...]
    branches: tuple[BranchChoice, ...]


def translate_condition(text: str) -> str:
    """``${x == 'a' && y}`` (JUEL, Camunda) → ``x == "a" and y`` (QLVB's expression syntax)."""
    match = _EL.match(text or "")
    inner = match.group(1) if match else (text or "").strip()
    inner = re.sub(r"'([^'\\]*)'", r'"\1"', inner)
    inner = re.sub(r"\s*&&\s*", " and ", inner)
    inner = re.sub(r"\s*\|\|\s*", " or ", inner)
    inner = re.sub(r"!(?!=)\s*", "not ", inner)
    inner = re.sub(r"\beq\b", "==", inner)
    inner = re.sub(r"\bne\b", "!=", inner)
    inner = re.sub(r"\btrue\b", "True", inner)
    inner = re.sub(r"\bfalse\b", "False", inner)
    return " ".join(inner.split())


def _process(root: etree._Element) -> etree._Element:
    processes = executable_processes(root)
    if len(processes) != 1:
        raise ValidationError(f"Tệp có {len(processes)} quy trình có bước xử lý; cần đúng một quy trình để ánh xạ")
    return processes[0]


def _name(node: etree._Element) -> str:
    return " ".join((node.get("name") or node.get("id") or "").split())


def _form_key(node: etree._Element) -> str | None:
    prop = node.find("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name='formKey']", NS)
    return (prop.get("value") or None) if prop is not None else None


def mapping_of(xml: str) -> MappingInfo:
    process = _process(parse_xml(xml))
    names = {n.get("id"): _name(n) for n in process.iter() if isinstance(n.tag, str) and n.get("id")}
    lanes = tuple(LaneChoice(lane.get("id", ""), _name(lane), lane_role(lane) if lane.get(ROLE_ATTR) else None)
                  for lane in process.iter(f"{{{BPMN_NS}}}lane") if lane.find("bpmn:childLaneSet", NS) is None)
    steps = tuple(
        StepChoice(node.get("id", ""), _name(node), etree.QName(node).localname,
                   (node.get(STEP_KIND_ATTR) or None), _form_key(node))
        for node in process if isinstance(node.tag, str) and etree.QName(node).namespace == BPMN_NS
        and etree.QName(node).localname in _CONVERTIBLE
    )
    flows_from: dict[str, list[etree._Element]] = {}
    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        flows_from.setdefault(flow.get("sourceRef", ""), []).append(flow)
    branches = []
    for kind in ("exclusiveGateway", "inclusiveGateway"):
        for gateway in process.iter(f"{{{BPMN_NS}}}{kind}"):
            outgoing = flows_from.get(gateway.get("id", ""), [])
            if len(outgoing) < 2:
                continue
            for flow in outgoing:
                condition = flow.find("bpmn:conditionExpression", NS)
                branches.append(BranchChoice(
                    flow.get("id", ""), gateway.get("id", ""), _name(gateway), _name(flow),
                    names.get(flow.get("targetRef"), ""),
                    translate_condition(condition.text or "") if condition is not None else "",
                    gateway.get("default") == flow.get("id")))
    return MappingInfo(lanes, steps, tuple(branches))


def apply_mapping(xml: str, *, process_key: str, lanes: Mapping[str, str], steps: Mapping[str, tuple[str, str]],
                  conditions: Mapping[str, str], defaults: Mapping[str, str], known_roles: frozenset[str],
                  known_forms: frozenset[str]) -> str:
    """The diagram with the admin's choices written in. ``steps``: element id → (kind, form key);
    ``defaults``: gateway id → the id of its default branch. Unknown roles, kinds or forms are refused."""
    root = parse_xml(xml)
    process = _process(root)
    if process.get("isExecutable") != "true":
        process.set("isExecutable", "true")
    info = process_kind(process_key)
    errors: dict[str, list[str]] = {}
    by_id = {n.get("id"): n for n in process.iter() if isinstance(n.tag, str) and n.get("id")}
    for lane_id, role in lanes.items():
        lane = by_id.get(lane_id)
        if lane is None or not role:
            continue
        if role not in known_roles:
            errors.setdefault(f"lane-{lane_id}", []).append("Vai trò không có trong danh mục")
            continue
        lane.set(ROLE_ATTR, role)
    for step_id, (kind, form_key) in steps.items():
        node = by_id.get(step_id)
        if node is None:
            continue
        if kind and info is not None and info.kind(kind) is None:
            errors.setdefault(f"kind-{step_id}", []).append("Loại bước không dùng được trong quy trình này")
            continue
        if form_key and form_key not in known_forms:
            errors.setdefault(f"form-{step_id}", []).append("Biểu mẫu không tồn tại")
            continue
        node = _as_user_task(node)
        by_id[step_id] = node
        if kind:
            node.set(STEP_KIND_ATTR, kind)
        if form_key:
            _set_form(node, form_key)
    for flow_id, text in conditions.items():
        flow = by_id.get(flow_id)
        if flow is None:
            continue
        condition = flow.find("bpmn:conditionExpression", NS)
        value = nfc((text or "").strip())
        if not value:
            if condition is not None:
                flow.remove(condition)
            continue
        if condition is None:
            condition = etree.SubElement(flow, f"{{{BPMN_NS}}}conditionExpression")
        condition.text = translate_condition(value)
    for gateway_id, flow_id in defaults.items():
        gateway = by_id.get(gateway_id)
        if gateway is not None and flow_id in by_id:
            gateway.set("default", flow_id)
    if errors:
        raise ValidationError("Một số lựa chọn ánh xạ không hợp lệ", field_errors=errors)
    etree.cleanup_namespaces(root, top_nsmap={"qlvb": QLVB_NS, "spiffworkflow": SPIFF_NS})
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="unicode")


def _as_user_task(node: etree._Element) -> etree._Element:
    if etree.QName(node).localname == "userTask":
        return node
    node.tag = f"{{{BPMN_NS}}}userTask"  # same id, flows and position: only the type changes
    return node


def _set_form(node: etree._Element, form_key: str) -> None:
    ext = node.find("bpmn:extensionElements", NS)
    if ext is None:
        ext = etree.Element(f"{{{BPMN_NS}}}extensionElements")
        node.insert(0, ext)
    props = ext.find("spiffworkflow:properties", NS)
    if props is None:
        props = etree.SubElement(ext, f"{{{SPIFF_NS}}}properties")
    prop = props.find("spiffworkflow:property[@name='formKey']", NS)
    if prop is None:
        prop = etree.SubElement(props, f"{{{SPIFF_NS}}}property", name="formKey")
    prop.set("value", form_key)
