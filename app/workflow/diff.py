"""What changed between two versions of a diagram, step by step, in words an agency admin reads.

Steps are matched by BPMN id (bpmn-js, Camunda Modeler and our templates keep ids stable across edits);
only what changes routing is compared: the name, the lane (role), the QLVB properties, the outgoing
flows and their conditions. Layout moves are not changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.workflow.loader import BPMN_NS, NS, executable_processes, lane_role, parse_xml
from app.workflow.steps import STEP_KIND_ATTR

_STEP_KINDS = {
    "userTask": "Bước",
    "serviceTask": "Bước tự động",
    "exclusiveGateway": "Cổng rẽ nhánh",
    "parallelGateway": "Cổng song song",
    "inclusiveGateway": "Cổng rẽ nhánh bao hàm",
    "startEvent": "Sự kiện bắt đầu",
    "endEvent": "Sự kiện kết thúc",
    "intermediateCatchEvent": "Sự kiện chờ",
    "boundaryEvent": "Sự kiện biên",
}
_PROPERTY_LABELS = {
    "formKey": "biểu mẫu",
    "candidateDepartmentField": "trường phòng ban xử lý",
    "candidateUserField": "trường người xử lý",
    "dueDays": "hạn xử lý (ngày làm việc)",
    "dueField": "trường hạn xử lý",
    "stepKind": "loại bước",
}


@dataclass(frozen=True)
class StepInfo:
    bpmn_id: str
    kind: str
    kind_label: str
    name: str


@dataclass(frozen=True)
class StepChangeInfo:
    step: StepInfo
    changes: tuple[str, ...]


@dataclass(frozen=True)
class DiffResult:
    added: tuple[StepInfo, ...]
    removed: tuple[StepInfo, ...]
    changed: tuple[StepChangeInfo, ...]

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def summary_vi(self) -> str:
        if self.is_empty:
            return "Không có thay đổi về các bước xử lý"
        return f"Thêm {len(self.added)} bước, bỏ {len(self.removed)} bước, sửa {len(self.changed)} bước"


@dataclass(frozen=True)
class _Step:
    info: StepInfo
    lane: str
    properties: dict[str, str]
    outgoing: dict[str, tuple[str, str]]  # flow id -> (target id, condition)
    default_flow: str | None
    operation: str | None


def _local(tag: object) -> str:
    return tag.split("}", 1)[1] if isinstance(tag, str) and tag.startswith("{") else str(tag)


def _steps(xml: str) -> dict[str, _Step]:
    root = parse_xml(xml)
    processes = executable_processes(root) or root.findall("bpmn:process", NS)
    steps: dict[str, _Step] = {}
    for process in processes:
        lanes = {
            (ref.text or "").strip(): lane_role(lane)
            for lane in process.iter(f"{{{BPMN_NS}}}lane")
            for ref in lane.iterfind("bpmn:flowNodeRef", NS)
        }
        flows: dict[str, dict[str, tuple[str, str]]] = {}
        for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            condition = flow.find("bpmn:conditionExpression", NS)
            text = " ".join((condition.text or "").split()) if condition is not None else ""
            flows.setdefault(flow.get("sourceRef", ""), {})[flow.get("id", "")] = (flow.get("targetRef", ""), text)
        for node in process.iter():
            kind = _local(node.tag)
            if kind not in _STEP_KINDS or not node.get("id"):
                continue
            bpmn_id = node.get("id", "")
            props = {
                p.get("name", ""): p.get("value", "")
                for p in node.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
            }
            if node.get(STEP_KIND_ATTR):
                props["stepKind"] = node.get(STEP_KIND_ATTR, "")
            operator = node.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
            steps[bpmn_id] = _Step(
                info=StepInfo(bpmn_id, kind, _STEP_KINDS[kind], " ".join((node.get("name") or "").split())),
                lane=lanes.get(bpmn_id, ""),
                properties=props,
                outgoing=flows.get(bpmn_id, {}),
                default_flow=node.get("default"),
                operation=operator.get("id") if operator is not None else None,
            )
    return steps


def _quote(value: str) -> str:
    return f"«{value}»" if value else "(trống)"


def _changes(old: _Step, new: _Step, old_names: dict[str, str], new_names: dict[str, str]) -> list[str]:
    out: list[str] = []
    if old.info.kind != new.info.kind:
        out.append(f"loại: {old.info.kind_label} → {new.info.kind_label}")
    if old.info.name != new.info.name:
        out.append(f"tên: {_quote(old.info.name)} → {_quote(new.info.name)}")
    if old.lane != new.lane:
        out.append(f"vai trò xử lý (làn): {_quote(old.lane)} → {_quote(new.lane)}")
    for key in sorted(set(old.properties) | set(new.properties)):
        before, after = old.properties.get(key, ""), new.properties.get(key, "")
        if before != after:
            out.append(f"{_PROPERTY_LABELS.get(key, key)}: {_quote(before)} → {_quote(after)}")
    if old.operation != new.operation:
        out.append(f"thao tác tự động: {_quote(old.operation or '')} → {_quote(new.operation or '')}")
    old_targets = {target: cond for target, cond in old.outgoing.values()}
    new_targets = {target: cond for target, cond in new.outgoing.values()}
    for target in sorted(set(new_targets) - set(old_targets)):
        out.append(f"thêm luồng tới {_quote(new_names.get(target, target))}")
    for target in sorted(set(old_targets) - set(new_targets)):
        out.append(f"bỏ luồng tới {_quote(old_names.get(target, target))}")
    for target in sorted(set(old_targets) & set(new_targets)):
        if old_targets[target] != new_targets[target]:
            out.append(
                f"điều kiện luồng tới {_quote(new_names.get(target, target))}: "
                f"{_quote(old_targets[target])} → {_quote(new_targets[target])}"
            )
    old_default = old.outgoing.get(old.default_flow or "", ("", ""))[0]
    new_default = new.outgoing.get(new.default_flow or "", ("", ""))[0]
    if old_default != new_default:
        out.append(
            f"luồng mặc định: {_quote(old_names.get(old_default, old_default))} → "
            f"{_quote(new_names.get(new_default, new_default))}"
        )
    return out


def diff_versions(a_xml: str, b_xml: str) -> DiffResult:
    """Steps added, removed and changed going from version ``a`` to version ``b``."""
    old, new = _steps(a_xml), _steps(b_xml)
    old_names = {k: s.info.name or k for k, s in old.items()}
    new_names = {k: s.info.name or k for k, s in new.items()}
    added = tuple(new[k].info for k in new if k not in old)
    removed = tuple(old[k].info for k in old if k not in new)
    changed = []
    for key in new:
        if key in old:
            found = _changes(old[key], new[key], old_names, new_names)
            if found:
                changed.append(StepChangeInfo(new[key].info, tuple(found)))
    return DiffResult(added=added, removed=removed, changed=tuple(changed))
