"""Load BPMN text safely and turn it into an engine spec, parsed once per content hash.

Diagrams come from agency admins' browsers: the XML is refused if it has a DTD or entities, is
bigger than MAX_DIAGRAM_BYTES, or would make lxml touch the network.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import defusedxml
import defusedxml.ElementTree as DefusedET
from lxml import etree
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.specs.defaults import ServiceTask

from app.workflow.errors import DiagramInvalidError, ProblemInfo

MAX_DIAGRAM_BYTES = 2 * 1024 * 1024
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}


class QlvbServiceTask(ServiceTask):
    """Service task whose operation result is merged into the task data (no ``spiff__*_result`` key)."""

    def _execute(self, task: Any) -> bool:
        task.workflow.script_engine.call_service(
            task, operation_name=self.operation_name, operation_params=self.evaluate_params(task)
        )
        return True


class QlvbBpmnParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, QlvbServiceTask),
    }


def sha256_of(xml: str) -> str:
    return hashlib.sha256(xml.encode("utf-8")).hexdigest()


def parse_xml(xml: str | bytes) -> etree._Element:
    """Parse untrusted XML; raise DiagramInvalidError (with the line) on anything malformed or hostile."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    if len(data) > MAX_DIAGRAM_BYTES:
        raise DiagramInvalidError(
            [ProblemInfo(None, None,
                         f"Tệp sơ đồ quá lớn ({len(data) // 1024} KB, tối đa {MAX_DIAGRAM_BYTES // 1024} KB)")]
        )
    try:
        DefusedET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException:
        raise DiagramInvalidError(
            [ProblemInfo(None, None, "Tệp sơ đồ chứa khai báo DTD/thực thể XML, không được phép vì lý do an toàn")]
        ) from None
    except DefusedET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise DiagramInvalidError(
            [ProblemInfo(None, None, f"Tệp sơ đồ không phải XML hợp lệ (dòng {line or '?'}): {exc}", line=line)]
        ) from None
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )
    try:
        return etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise DiagramInvalidError(
            [ProblemInfo(None, None, f"Tệp sơ đồ không phải XML hợp lệ (dòng {exc.lineno}): {exc.msg}",
                         line=exc.lineno)]
        ) from None


@dataclass(frozen=True)
class UserTaskMeta:
    """QLVB properties of one userTask, read from ``spiffworkflow:properties``."""

    bpmn_id: str
    name: str
    lane: str | None
    form_key: str | None
    candidate_department_field: str | None = None
    candidate_user_field: str | None = None
    due_days: int | None = None
    due_field: str | None = None
    multi_instance: bool = False


@dataclass(frozen=True)
class Diagram:
    """A parsed diagram; ``spec`` objects are shared by every instance of this content hash."""

    sha256: str
    process_id: str
    process_name: str
    spec: Any = field(repr=False)
    subprocess_specs: dict[str, Any] = field(repr=False)
    user_tasks: dict[str, UserTaskMeta]
    element_names: dict[str, str]


def _properties(node: etree._Element) -> dict[str, str]:
    props = {}
    for prop in node.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
        name = prop.get("name")
        if name:
            props[name] = prop.get("value", "")
    return props


def _lane_of(process: etree._Element) -> dict[str, str]:
    lanes: dict[str, str] = {}
    for lane in process.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if ref.text:
                lanes[ref.text.strip()] = (lane.get("name") or "").strip()
    return lanes


def executable_processes(root: etree._Element) -> list[etree._Element]:
    return [p for p in root.iterfind("bpmn:process", NS) if p.get("isExecutable", "false").lower() == "true"]


def user_task_meta(process: etree._Element) -> dict[str, UserTaskMeta]:
    lanes = _lane_of(process)
    metas: dict[str, UserTaskMeta] = {}
    for node in process.iter(f"{{{BPMN_NS}}}userTask"):
        bpmn_id = node.get("id", "")
        props = _properties(node)
        due_days: int | None
        try:
            due_days = int(props["dueDays"]) if props.get("dueDays") else None
        except ValueError:
            due_days = None
        metas[bpmn_id] = UserTaskMeta(
            bpmn_id=bpmn_id,
            name=(node.get("name") or bpmn_id).strip(),
            lane=lanes.get(bpmn_id),
            form_key=props.get("formKey") or None,
            candidate_department_field=props.get("candidateDepartmentField") or None,
            candidate_user_field=props.get("candidateUserField") or None,
            due_days=due_days,
            due_field=props.get("dueField") or None,
            multi_instance=node.find("bpmn:multiInstanceLoopCharacteristics", NS) is not None,
        )
    return metas


def build_diagram(xml: str, root: etree._Element | None = None) -> Diagram:
    """Parse into engine specs without QLVB validation (validation.validate_diagram does that)."""
    if root is None:
        root = parse_xml(xml)
    processes = executable_processes(root)
    if len(processes) != 1:
        raise DiagramInvalidError(
            [ProblemInfo(None, None,
                         f"Sơ đồ phải có đúng một quy trình thực thi được (isExecutable), có {len(processes)}")]
        )
    process = processes[0]
    process_id = process.get("id", "")
    parser = QlvbBpmnParser()
    try:
        parser.add_bpmn_xml(etree.ElementTree(root), filename=f"{process_id}.bpmn")
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        element_id = getattr(exc, "id", None) or None
        element_name = getattr(exc, "name", None) or None
        where = f' "{element_name}"' if element_name else ""
        where += f" (id={element_id})" if element_id else ""
        raise DiagramInvalidError(
            [ProblemInfo(element_id, element_name, f"Phần tử{where} không dựng được: {exc}")]
        ) from None
    except (SpiffWorkflowException, etree.LxmlError, KeyError, ValueError, TypeError, AttributeError) as exc:
        raise DiagramInvalidError([ProblemInfo(None, None, f"Không đọc được sơ đồ: {exc}")]) from None
    names = {
        node.get("id"): (node.get("name") or node.get("id") or "").strip()
        for node in process.iter()
        if isinstance(node.tag, str) and node.get("id")
    }
    return Diagram(
        sha256=sha256_of(xml),
        process_id=process_id,
        process_name=(process.get("name") or process_id).strip(),
        spec=spec,
        subprocess_specs=subprocess_specs,
        user_tasks=user_task_meta(process),
        element_names=names,
    )


class _DiagramCache:
    """LRU of parsed diagrams keyed by content hash: published versions never change, so no expiry."""

    def __init__(self, size: int = 256):
        self._size = size
        self._items: OrderedDict[str, Diagram] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, xml: str, sha256: str | None = None) -> Diagram:
        key = sha256 or sha256_of(xml)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        diagram = build_diagram(xml)
        with self._lock:
            self._items[key] = diagram
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return diagram

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_cache = _DiagramCache()


def load_diagram(xml: str, sha256: str | None = None) -> Diagram:
    """Return the parsed diagram for ``xml`` (cached by sha256)."""
    return _cache.get(xml, sha256)


def clear_diagram_cache() -> None:
    _cache.clear()
