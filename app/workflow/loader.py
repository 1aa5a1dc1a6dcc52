"""Load BPMN text safely and turn it into an engine spec, parsed once per content hash.

Diagrams come from agency admins' browsers: the XML is refused if it has a DTD or entities, is
bigger than MAX_DIAGRAM_BYTES, or would make lxml touch the network.
"""

from __future__ import annotations

import hashlib
import logging
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
from app.workflow.steps import ROLE_ATTR, STEP_KIND_ATTR
from app.workflow.timers import quote_iso_literal

log = logging.getLogger("qlvb.workflow")

MAX_DIAGRAM_BYTES = 2 * 1024 * 1024
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}


_DATA_ONLY = {"dataObject", "dataObjectReference", "dataStoreReference", "dataInputAssociation",
              "dataOutputAssociation", "ioSpecification", "property"}
# What the engine's own refusals mean, in an administrator's words (its English text goes to the log).
_ENGINE_HINTS = (
    ("no start event", "quy trình chưa có sự kiện bắt đầu"),
    ("no output task", "bước này chưa có luồng ra nối tới bước tiếp theo"),
    ("time specification", "giá trị hẹn giờ không đúng dạng ISO 8601"),
    ("duplicate", "mã bị trùng với một phần tử khác"),
    ("not executable", "quy trình chưa được đánh dấu chạy được"),
    ("no support", "loại phần tử này chưa được hỗ trợ"),
    ("missing", "phần tử thiếu thông tin bắt buộc"),
)


def _engine_hint(message: str) -> str:
    lowered = message.lower()
    for needle, hint in _ENGINE_HINTS:
        if needle in lowered:
            return hint
    return "bộ máy quy trình không dựng được phần tử này; hãy kiểm tra các luồng vào, ra và thuộc tính của nó"


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
    step_kind: str | None = None


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


def lane_role(lane: etree._Element) -> str:
    """The org role a lane stands for: ``qlvb:role``, else (older diagrams) the lane's name."""
    return (lane.get(ROLE_ATTR) or lane.get("name") or "").strip()


def _lane_of(process: etree._Element) -> dict[str, str]:
    lanes: dict[str, str] = {}
    for lane in process.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if ref.text:
                lanes[ref.text.strip()] = lane_role(lane)
    return lanes


_FLOW_NODES = ("startEvent", "userTask", "serviceTask", "task", "manualTask", "scriptTask", "sendTask",
               "receiveTask", "businessRuleTask", "callActivity", "subProcess")


def _has_content(process: etree._Element) -> bool:
    return any(process.find(f"bpmn:{local}", NS) is not None for local in _FLOW_NODES)


def executable_processes(root: etree._Element) -> list[etree._Element]:
    """The processes QLVB would run: those marked executable, else (a modeler that leaves the flag off)
    every process that has steps. Empty pools of a collaboration (other parties) are not processes to run."""
    processes = list(root.iterfind("bpmn:process", NS))
    marked = [p for p in processes if p.get("isExecutable", "false").strip().lower() == "true" and _has_content(p)]
    return marked or [p for p in processes if _has_content(p)]


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
            step_kind=(node.get(STEP_KIND_ATTR) or "").strip() or None,
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
    if process.get("isExecutable", "false").strip().lower() != "true":
        process.set("isExecutable", "true")  # the engine only builds executable processes
    for local in ("timeDuration", "timeDate", "timeCycle"):
        for node in process.iter(f"{{{BPMN_NS}}}{local}"):
            node.text = quote_iso_literal(node.text or "", local)
    for node in list(process.iter()):
        # Data declarations do not change how the process runs here; the engine would try to resolve them.
        if isinstance(node.tag, str) and node.tag.startswith(f"{{{BPMN_NS}}}") and \
                node.tag.split("}", 1)[1] in _DATA_ONLY and node.getparent() is not None:
            node.getparent().remove(node)
    parser = QlvbBpmnParser()
    try:
        parser.add_bpmn_xml(etree.ElementTree(root), filename=f"{process_id}.bpmn")
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        element_id = getattr(exc, "id", None) or None
        element_name = getattr(exc, "name", None) or None
        log.info("engine refused diagram %s at %s: %s", process_id, element_id, exc)
        where = f" «{element_name}»" if element_name else ""
        where += f" (mã {element_id})" if element_id else ""
        raise DiagramInvalidError(
            [ProblemInfo(element_id, element_name, f"Phần tử{where}: {_engine_hint(str(exc))}")]
        ) from None
    except (SpiffWorkflowException, etree.LxmlError, KeyError, ValueError, TypeError, AttributeError) as exc:
        log.info("engine could not read diagram %s: %r", process_id, exc)
        raise DiagramInvalidError([ProblemInfo(None, None, "Bộ máy quy trình không đọc được sơ đồ; hãy kiểm tra "
                                               "các luồng nối và thuộc tính của các bước")]) from None
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
