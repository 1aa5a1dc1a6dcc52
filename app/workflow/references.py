"""Where a diagram depends on the org structure and on platform operations (for the designer's guards)."""

from __future__ import annotations

from dataclasses import dataclass

from app.workflow.loader import BPMN_NS, NS, SPIFF_NS, executable_processes, lane_role, parse_xml

_TASKS = ("userTask", "serviceTask")


def _local(tag: object) -> str:
    return tag.split("}", 1)[1] if isinstance(tag, str) and tag.startswith("{") else str(tag)


@dataclass(frozen=True)
class OrgReferenceInfo:
    """A place where a diagram names part of the org structure (a lane role or a fixed department code)."""

    kind: str  # "role" | "department"
    code: str
    bpmn_id: str
    step_name: str


def org_references(xml: str) -> tuple[OrgReferenceInfo, ...]:
    """Lane roles and ``candidateDepartment`` codes a diagram depends on, with the steps that use them."""
    root = parse_xml(xml)
    refs: list[OrgReferenceInfo] = []
    for process in executable_processes(root):
        kinds = {node.get("id", ""): _local(node.tag) for node in process.iter() if isinstance(node.tag, str)}
        names = {
            node.get("id", ""): " ".join((node.get("name") or node.get("id") or "").split())
            for node in process.iter()
            if isinstance(node.tag, str) and node.get("id")
        }
        for lane in process.iter(f"{{{BPMN_NS}}}lane"):
            role = lane_role(lane)
            members = [(ref.text or "").strip() for ref in lane.iterfind("bpmn:flowNodeRef", NS)]
            steps = [m for m in members if kinds.get(m) in _TASKS] or [lane.get("id", "")]
            for member in steps:
                refs.append(OrgReferenceInfo("role", role, member, names.get(member, member)))
        for node in process.iter(f"{{{BPMN_NS}}}userTask"):
            for prop in node.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
                if prop.get("name") == "candidateDepartment" and prop.get("value"):
                    refs.append(OrgReferenceInfo("department", prop.get("value", "").strip(), node.get("id", ""),
                                                 names.get(node.get("id", ""), "")))
    return tuple(refs)


def operations_in(xml: str) -> frozenset[str]:
    """The service-task operations a diagram calls."""
    root = parse_xml(xml)
    return frozenset(
        op.get("id", "") for op in root.iter(f"{{{SPIFF_NS}}}serviceTaskOperator") if op.get("id")
    )
