"""Check a diagram against what QLVB can run, collecting every problem with the element it concerns."""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from app.workflow.errors import DiagramInvalidError, ExpressionError, ProblemInfo
from app.workflow.expressions import check_expression, expression_names
from app.workflow.loader import (
    BPMN_NS,
    NS,
    SPIFF_NS,
    build_diagram,
    executable_processes,
    lane_role,
    parse_xml,
    sha256_of,
)
from app.workflow.operations import operation_kind, operation_outputs, registered_operations
from app.workflow.steps import BASE_START_FIELDS, STEP_KIND_ATTR, ProcessKindInfo, process_kind
from app.workflow.timers import KIND_LABELS, TimerValueError, parse_timer

# Element kinds as an agency admin sees them in the modeler.
_LABELS = {
    "userTask": "Bước",
    "serviceTask": "Bước tự động",
    "scriptTask": "Bước kịch bản",
    "businessRuleTask": "Bước quy tắc nghiệp vụ",
    "callActivity": "Bước gọi quy trình con",
    "subProcess": "Quy trình con",
    "sendTask": "Bước gửi thông điệp",
    "receiveTask": "Bước nhận thông điệp",
    "manualTask": "Bước thủ công",
    "task": "Bước",
    "exclusiveGateway": "Cổng rẽ nhánh",
    "parallelGateway": "Cổng song song",
    "inclusiveGateway": "Cổng rẽ nhánh bao hàm",
    "eventBasedGateway": "Cổng sự kiện",
    "complexGateway": "Cổng phức hợp",
    "sequenceFlow": "Luồng",
    "lane": "Làn",
    "startEvent": "Sự kiện bắt đầu",
    "endEvent": "Sự kiện kết thúc",
    "intermediateCatchEvent": "Sự kiện chờ",
    "intermediateThrowEvent": "Sự kiện phát",
    "boundaryEvent": "Sự kiện biên",
}

# Why an element is refused, in words an admin can act on (no XML tag names).
_REFUSED = {
    "scriptTask": "bước chạy kịch bản không được phép trong sơ đồ; hãy dùng «Bước tự động» với một thao tác "
    "đã đăng ký",
    "businessRuleTask": "bảng quyết định chưa được hỗ trợ; hãy dùng cổng rẽ nhánh có điều kiện",
    "callActivity": "gọi quy trình khác chưa được hỗ trợ; hãy vẽ các bước ngay trong sơ đồ này",
    "subProcess": "quy trình con chưa được hỗ trợ; hãy vẽ các bước ngay trong sơ đồ này",
    "adHocSubProcess": "quy trình con tùy biến chưa được hỗ trợ",
    "transaction": "khối giao dịch chưa được hỗ trợ",
    "sendTask": "bước gửi thông điệp chưa được hỗ trợ; văn bản được gửi bằng bước «Gửi văn bản điện tử»",
    "receiveTask": "bước chờ nhận thông điệp chưa được hỗ trợ",
    "manualTask": "bước làm tay chưa có người nhận trong phần mềm; hãy đổi thành «Bước của người dùng» có "
    "biểu mẫu (bước ánh xạ khi nhập tệp làm việc này)",
    "task": "bước chưa chọn loại; hãy đổi thành «Bước của người dùng» có biểu mẫu hoặc «Bước tự động»",
    "intermediateThrowEvent": "sự kiện phát tín hiệu chưa được hỗ trợ; hãy xóa hoặc thay bằng một luồng",
    "eventBasedGateway": "cổng chờ sự kiện chưa được hỗ trợ; hãy dùng cổng rẽ nhánh có điều kiện",
    "complexGateway": "cổng phức hợp chưa được hỗ trợ; hãy dùng cổng rẽ nhánh hoặc cổng song song",
    "messageEventDefinition": "sự kiện thông điệp chưa được hỗ trợ",
    "signalEventDefinition": "sự kiện tín hiệu chưa được hỗ trợ",
    "errorEventDefinition": "sự kiện lỗi chưa được hỗ trợ",
    "escalationEventDefinition": "sự kiện leo thang chưa được hỗ trợ",
    "conditionalEventDefinition": "sự kiện điều kiện chưa được hỗ trợ",
    "compensateEventDefinition": "sự kiện bù trừ chưa được hỗ trợ",
    "cancelEventDefinition": "sự kiện hủy chưa được hỗ trợ",
    "linkEventDefinition": "sự kiện liên kết chưa được hỗ trợ",
    "standardLoopCharacteristics": "vòng lặp chưa được hỗ trợ; hãy dùng luồng quay lại qua cổng rẽ nhánh",
}

# Declarations that do not change how the process runs: ignored, never reported (foreign modelers write them).
_IGNORED = {
    "dataObject", "dataObjectReference", "dataStoreReference", "dataStore", "ioSpecification", "dataInput",
    "dataOutput", "inputSet", "outputSet", "dataInputAssociation", "dataOutputAssociation", "sourceRef",
    "targetRef", "assignment", "from", "to", "transformation", "property", "dataState", "category",
    "categoryValue", "resourceRole", "performer", "humanPerformer", "potentialOwner", "resourceAssignmentExpression",
    "resourceParameterBinding", "expression", "formalExpression", "supportedInterfaceRef", "ioBinding",
    "correlationSubscription", "correlationPropertyBinding", "monitoring", "auditing", "rendering", "renderings",
}

# Everything else inside a process that we can run or that only decorates the diagram.
_ALLOWED = {
    "process", "startEvent", "endEvent", "userTask", "serviceTask", "exclusiveGateway", "parallelGateway",
    "inclusiveGateway", "intermediateCatchEvent", "boundaryEvent", "sequenceFlow", "laneSet", "lane",
    "childLaneSet", "flowNodeRef", "textAnnotation", "text", "association", "group", "extensionElements",
    "incoming", "outgoing", "conditionExpression", "multiInstanceLoopCharacteristics", "loopDataInputRef",
    "loopDataOutputRef", "inputDataItem", "outputDataItem", "loopCardinality", "completionCondition",
    "timerEventDefinition", "timeDuration", "timeDate", "timeCycle", "documentation",
    "terminateEventDefinition",
}
_ALLOWED_SPIFF = {"properties", "property", "serviceTaskOperator", "parameters", "parameter",
                  "instructionsForEndUser"}
_TOP_LEVEL_ALLOWED = {"process", "collaboration", "extensionElements", "documentation", "message", "itemDefinition",
                      "resource", "signal", "error", "escalation", "category", "dataStore", "interface",
                      "correlationProperty", "import", "relationship", "globalTask", "partnerRole",
                      "partnerEntity"}
_COLLABORATION_ALLOWED = {"participant", "textAnnotation", "text", "association", "documentation",
                          "extensionElements", "messageFlow", "group", "conversation", "conversationLink",
                          "participantMultiplicity", "correlationKey", "interfaceRef"}
_RESERVED_IDS = {"Start", "End", "Root"}
_FIELD_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class UserTaskInfo:
    bpmn_id: str
    name: str
    lane: str | None
    form_key: str | None
    candidate_department_field: str | None
    candidate_user_field: str | None
    due_days: int | None
    due_field: str | None
    multi_instance: bool
    step_kind: str | None = None


@dataclass(frozen=True)
class DiagramInfo:
    """What a valid diagram declares: used by the admin to show the steps and forms it needs."""

    sha256: str
    process_id: str
    process_name: str
    user_tasks: tuple[UserTaskInfo, ...]
    lanes: frozenset[str]
    form_keys: frozenset[str]
    operations: frozenset[str]


@dataclass(frozen=True)
class ContractInfo:
    """What the diagram must agree with beyond the engine: its process kind, the agency's forms and staff.

    ``form_fields``: form key -> {field name: label} of the forms the diagram may use (None: not checked).
    ``held_roles``: role -> names of the agency's active positions that hold it (None: a template, not
    checked against any one agency). ``role_labels``: Vietnamese names of the roles. ``positions``: the
    agency's active positions, offered as the ones that could take an unheld role.
    """

    process_key: str | None = None
    form_fields: Mapping[str, Mapping[str, str]] | None = None
    role_labels: Mapping[str, str] = field(default_factory=dict)
    held_roles: Mapping[str, tuple[str, ...]] | None = None
    positions: tuple[str, ...] = ()


def _local(node: etree._Element) -> tuple[str | None, str]:
    tag = node.tag
    if not isinstance(tag, str):
        return None, ""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


def _describe(node: etree._Element) -> str:
    _, local = _local(node)
    label = _LABELS.get(local, "Phần tử")
    element_id = node.get("id")
    name = " ".join((node.get("name") or "").split())
    if name:
        return f"{label} «{name}» (mã {element_id})" if element_id else f"{label} «{name}»"
    return f"{label} (mã {element_id})" if element_id else label


def _owner(node: etree._Element) -> etree._Element:
    """The nearest ancestor-or-self with an id (what the admin can click on)."""
    current: etree._Element | None = node
    while current is not None:
        if current.get("id"):
            return current
        current = current.getparent()
    return node


class _Collector:
    """Every problem once, named by the element it concerns."""

    def __init__(self) -> None:
        self.problems: list[ProblemInfo] = []
        self._seen: set[tuple[str | None, str]] = set()

    def add(self, node: etree._Element | None, message: str) -> None:
        if node is None:
            key = (None, message)
            if key not in self._seen:
                self._seen.add(key)
                self.problems.append(ProblemInfo(None, None, message))
            return
        owner = _owner(node)
        key = (owner.get("id"), message)
        if key in self._seen:
            return
        self._seen.add(key)
        self.problems.append(
            ProblemInfo(owner.get("id"), " ".join((owner.get("name") or "").split()) or None,
                        f"{_describe(owner)}: {message}", line=node.sourceline)
        )

    def about(self, element_id: str | None) -> bool:
        return any(p.element_id == element_id for p in self.problems)


def _check_expression(c: _Collector, node: etree._Element, text: str | None, what: str) -> None:
    if text is None or not text.strip():
        c.add(node, f"{what} trống")
        return
    try:
        check_expression(text.strip())
    except ExpressionError as exc:
        c.add(node, f"{what} không hợp lệ — {exc.message}")


def _check_elements(c: _Collector, process: etree._Element) -> None:
    seen: set[str] = set()
    skip: set[etree._Element] = set()
    for node in process.iter():
        if node in skip:
            continue
        ns, local = _local(node)
        if ns is None:
            continue
        if ns == BPMN_NS and local in _IGNORED:
            skip.update(node.iter())
            continue
        if ns == BPMN_NS and local == "extensionElements":
            # Vendor extensions (Camunda, Signavio…) do not run here; only QLVB's own scripts would.
            for child in node.iter():
                cns, clocal = _local(child)
                if cns == SPIFF_NS and clocal in ("preScript", "postScript", "script"):
                    c.add(node, "có đoạn kịch bản (script) trong phần mở rộng, không được phép vì an toàn")
                elif cns == SPIFF_NS and clocal not in _ALLOWED_SPIFF:
                    c.add(node, f"có thuộc tính mở rộng «{clocal}» mà QLVB không hiểu; hãy xóa nó")
            skip.update(node.iter())
            continue
        element_id = node.get("id")
        if element_id:
            if element_id in seen:
                c.add(node, f"mã «{element_id}» bị trùng với một phần tử khác; hãy đổi mã")
            seen.add(element_id)
        if element_id in _RESERVED_IDS:
            c.add(node, f"mã «{element_id}» trùng với tên dành riêng của bộ máy quy trình; hãy đổi mã khác")
        if ns == BPMN_NS:
            if local in _REFUSED:
                c.add(node, _REFUSED[local])
            elif local not in _ALLOWED:
                c.add(node, "loại phần tử này chưa được hỗ trợ; hãy xóa hoặc thay bằng bước, cổng hay sự kiện "
                            "có trong bảng công cụ")


def _check_events(c: _Collector, process: etree._Element) -> None:
    for kind in ("intermediateCatchEvent", "boundaryEvent"):
        for node in process.iter(f"{{{BPMN_NS}}}{kind}"):
            if node.find("bpmn:timerEventDefinition", NS) is None:
                c.add(node, "chỉ hỗ trợ sự kiện hẹn giờ")
    for node in process.iter(f"{{{BPMN_NS}}}startEvent"):
        if any(_local(child)[1].endswith("EventDefinition") for child in node):
            c.add(node, "sự kiện bắt đầu phải là loại thường (không hẹn giờ, không thông điệp)")
    for timer in process.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        values = [child for child in timer if _local(child)[1] in ("timeDuration", "timeDate", "timeCycle")]
        if not values:
            owner = timer.getparent() if timer.getparent() is not None else timer
            c.add(owner, "sự kiện hẹn giờ chưa có giá trị (khoảng thời gian, thời điểm hoặc chu kỳ)")
        for child in values:
            kind = _local(child)[1]
            try:
                parse_timer(kind, child.text)
            except TimerValueError as exc:
                event = timer.getparent() if timer.getparent() is not None else child
                c.add(event, f"hẹn giờ không hợp lệ: {exc.message}; cần một {KIND_LABELS[kind]}")
    if process.find("bpmn:startEvent", NS) is None:
        c.add(process, "quy trình chưa có sự kiện bắt đầu")
    if next(process.iter(f"{{{BPMN_NS}}}endEvent"), None) is None:
        c.add(process, "quy trình chưa có sự kiện kết thúc")


def _role_name(role: str, contract: ContractInfo) -> str:
    return contract.role_labels.get(role, role)


def _check_lanes(c: _Collector, process: etree._Element, known_roles: Collection[str],
                 contract: ContractInfo) -> dict[str, str]:
    lane_of: dict[str, str] = {}
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        role = lane_role(lane)
        children = lane.find("bpmn:childLaneSet", NS)
        if not role and children is not None:
            continue  # a lane only grouping other lanes
        if not role:
            c.add(lane, "làn chưa chọn vai trò xử lý")
        elif role not in known_roles:
            roles = ", ".join(sorted(_role_name(r, contract) for r in known_roles))
            c.add(lane, f"vai trò «{role}» không có trong danh mục; hãy chọn một vai trò: {roles}")
        elif contract.held_roles is not None and not contract.held_roles.get(role):
            offer = ", ".join(contract.positions[:8]) or "chưa có chức vụ nào"
            c.add(lane, f"không có chức vụ nào đang hoạt động của cơ quan giữ vai trò «{_role_name(role, contract)}», "
                        f"công việc đến làn này sẽ không có người nhận; hãy gán vai trò này cho một chức vụ trong "
                        f"«Cơ cấu tổ chức» (các chức vụ hiện có: {offer}) hoặc chọn vai trò khác cho làn")
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if ref.text:
                lane_of[ref.text.strip()] = role
    return lane_of


def _properties(node: etree._Element) -> dict[str, str]:
    return {
        p.get("name", ""): p.get("value", "")
        for p in node.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
    }


def _check_user_tasks(
    c: _Collector, process: etree._Element, lane_of: dict[str, str], known_forms: Collection[str] | None,
    contract: ContractInfo, kind_of: ProcessKindInfo | None,
) -> None:
    for task in process.iter(f"{{{BPMN_NS}}}userTask"):
        task_id = task.get("id", "")
        if task_id not in lane_of:
            c.add(task, "bước chưa nằm trong làn vai trò nào; hãy kéo bước vào làn của người thực hiện")
        props = _properties(task)
        form_key = props.get("formKey", "").strip()
        if not form_key:
            c.add(task, "bước chưa chọn biểu mẫu")
        elif known_forms is not None and form_key not in known_forms:
            c.add(task, f"biểu mẫu «{form_key}» không tồn tại")
        kind_code = (task.get(STEP_KIND_ATTR) or "").strip()
        if not kind_code:
            if kind_of is not None:  # a process without a declared kind: its steps are plain steps
                c.add(task, "bước chưa chọn loại bước (việc bước này làm với hồ sơ)")
        elif kind_of is not None:
            kind = kind_of.kind(kind_code)
            if kind is None or kind.automatic:
                labels = ", ".join(k.label for k in kind_of.all_kinds if not k.automatic)
                c.add(task, f"loại bước «{kind_code}» không dùng được trong quy trình «{kind_of.label}»; "
                            f"hãy chọn một loại: {labels}")
            elif contract.form_fields is not None and form_key in contract.form_fields:
                have = contract.form_fields[form_key]
                missing = [need for need in kind.fields if need.name not in have]
                if missing:
                    wanted = ", ".join(f"«{n.label}» ({n.name})" for n in missing)
                    c.add(task, f"loại bước «{kind.label}» cần biểu mẫu có trường {wanted}; biểu mẫu «{form_key}» "
                                "không có — hãy chọn biểu mẫu khác hoặc thêm trường vào biểu mẫu")
        for prop in ("candidateDepartmentField", "candidateUserField", "dueField"):
            value = props.get(prop)
            if value is not None and not _FIELD_RE.match(value):
                c.add(task, f"«{_PROP_LABELS[prop]}» phải là tên một trường dữ liệu (chữ, số, dấu _), "
                            f"đang là «{value}»")
        if "dueDays" in props:
            raw = props["dueDays"]
            if not raw.isdigit() or not 0 <= int(raw) <= 365:
                c.add(task, f"hạn xử lý phải là số ngày làm việc từ 0 đến 365, đang là «{raw}»")
        mi = task.find("bpmn:multiInstanceLoopCharacteristics", NS)
        if mi is not None:
            for child in mi:
                local = _local(child)[1]
                if local in ("loopCardinality", "completionCondition"):
                    _check_expression(c, child, child.text, "Biểu thức lặp")
                ref = (child.text or "").strip()
                if local in ("loopDataInputRef", "loopDataOutputRef") and not _FIELD_RE.match(ref):
                    c.add(child, "danh sách lặp phải là tên một trường dữ liệu")


_PROP_LABELS = {"candidateDepartmentField": "trường đơn vị xử lý", "candidateUserField": "trường người xử lý",
                "dueField": "trường hạn xử lý"}


def _check_kinds(c: _Collector, process: etree._Element, kind_of: ProcessKindInfo) -> None:
    """The process kind's required step kinds are present, the unique ones at most once."""
    found: dict[str, list[etree._Element]] = {}
    for task in process.iter(f"{{{BPMN_NS}}}userTask"):
        code = (task.get(STEP_KIND_ATTR) or "").strip()
        if code:
            found.setdefault(code, []).append(task)
    for task in process.iter(f"{{{BPMN_NS}}}serviceTask"):
        operator = task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
        code = operation_kind(operator.get("id", "")) if operator is not None else None
        if code:
            found.setdefault(code, []).append(task)
    for code in kind_of.required:
        if code not in found:
            kind = kind_of.kind(code)
            label = kind.label if kind else code
            how = "một bước tự động gọi thao tác tương ứng" if kind and kind.automatic else \
                f"một bước của người dùng có loại «{label}»"
            c.add(process, f"quy trình «{kind_of.label}» phải có bước «{label}»; hãy thêm {how}")
    for code, nodes in found.items():
        kind = kind_of.kind(code)
        if kind is not None and kind.unique and len(nodes) > 1:
            for node in nodes:
                c.add(node, f"quy trình chỉ được có một bước loại «{kind.label}» ({len(nodes)} bước đang có)")


def _check_service_tasks(c: _Collector, process: etree._Element, known_operations: Collection[str]) -> None:
    for task in process.iter(f"{{{BPMN_NS}}}serviceTask"):
        operator = task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
        if operator is None or not operator.get("id"):
            c.add(task, "bước tự động chưa chọn thao tác")
            continue
        name = operator.get("id", "")
        if name not in known_operations:
            c.add(task, f"thao tác tự động «{name}» chưa được đăng ký trong hệ thống")
        for param in operator.iter(f"{{{SPIFF_NS}}}parameter"):
            _check_expression(c, param, param.get("value"), f"Tham số «{param.get('id')}»")


def _flow_nodes(process: etree._Element) -> dict[str, etree._Element]:
    return {node.get("id", ""): node for node in process if _local(node)[1] in _LABELS
            and _local(node)[1] not in ("sequenceFlow", "lane") and node.get("id")}


def _check_flows(c: _Collector, process: etree._Element) -> None:
    flows_from: dict[str, list[etree._Element]] = {}
    ids = {node.get("id") for node in process.iter() if isinstance(node.tag, str) and node.get("id")}
    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        flows_from.setdefault(flow.get("sourceRef", ""), []).append(flow)
        for end in ("sourceRef", "targetRef"):
            if flow.get(end) not in ids:
                c.add(flow, f"luồng nối tới một phần tử không còn trong sơ đồ («{flow.get(end)}»)")
        condition = flow.find("bpmn:conditionExpression", NS)
        if condition is not None:
            _check_expression(c, condition, condition.text, "Điều kiện")
    for kind in ("exclusiveGateway", "inclusiveGateway"):
        for gateway in process.iter(f"{{{BPMN_NS}}}{kind}"):
            outgoing = flows_from.get(gateway.get("id", ""), [])
            if len(outgoing) < 2:
                continue
            default = gateway.get("default")
            for flow in outgoing:
                if flow.get("id") != default and flow.find("bpmn:conditionExpression", NS) is None:
                    c.add(flow, f"nhánh ra từ {_describe(gateway)} chưa có điều kiện và không phải nhánh mặc định")
    targets = {flow.get("targetRef") for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow")}
    for node_id, node in _flow_nodes(process).items():
        local = _local(node)[1]
        if local not in ("startEvent", "boundaryEvent") and node_id not in targets:
            c.add(node, "không có luồng nào đi vào")


def _graph(process: etree._Element) -> dict[str, set[str]]:
    """Who can come right after whom: sequence flows, and a task to the boundary events on it."""
    nxt: dict[str, set[str]] = {}
    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        nxt.setdefault(flow.get("sourceRef", ""), set()).add(flow.get("targetRef", ""))
    for event in process.iter(f"{{{BPMN_NS}}}boundaryEvent"):
        if event.get("attachedToRef"):
            nxt.setdefault(event.get("attachedToRef", ""), set()).add(event.get("id", ""))
    return nxt


def _reach(start: Iterable[str], edges: Mapping[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(edges.get(node, ()))
    return seen


def _check_reachable(c: _Collector, process: etree._Element) -> None:
    nodes = _flow_nodes(process)
    starts = [i for i, n in nodes.items() if _local(n)[1] == "startEvent"]
    if not starts:
        return
    reached = _reach(starts, _graph(process))
    for node_id, node in nodes.items():
        if node_id not in reached and not c.about(node_id):
            c.add(node, "không bao giờ đến được bước này từ sự kiện bắt đầu; hãy nối nó vào luồng hoặc xóa")


def _check_condition_fields(c: _Collector, process: etree._Element, kind_of: ProcessKindInfo | None,
                            contract: ContractInfo) -> None:
    """Each name a condition or an assignment field reads must come from an earlier form or step."""
    if contract.form_fields is None:
        return
    nodes = _flow_nodes(process)
    edges = _graph(process)
    back: dict[str, set[str]] = {}
    for source, targets in edges.items():
        for target in targets:
            back.setdefault(target, set()).add(source)
    base = set(BASE_START_FIELDS) | set(kind_of.start_fields if kind_of else ())
    base |= {item.get("id", "") for item in process.iter(f"{{{BPMN_NS}}}inputDataItem")}

    def provided_before(node_id: str) -> set[str]:
        names = set(base)
        for up in _reach(back.get(node_id, ()), back):
            node = nodes.get(up)
            if node is None:
                continue
            local = _local(node)[1]
            if local == "userTask":
                form_key = _properties(node).get("formKey", "")
                names |= set((contract.form_fields or {}).get(form_key, {}))
                kind = kind_of.kind(node.get(STEP_KIND_ATTR, "")) if kind_of else None
                if kind is not None:
                    names |= set(kind.produces)
            elif local == "serviceTask":
                operator = node.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
                if operator is not None:
                    names |= set(operation_outputs(operator.get("id", "")))
        return names

    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        condition = flow.find("bpmn:conditionExpression", NS)
        if condition is None or not (condition.text or "").strip():
            continue
        try:
            wanted = expression_names(condition.text.strip())
        except ExpressionError:
            continue  # reported as an invalid condition already
        missing = sorted(wanted - provided_before(flow.get("sourceRef", "")))
        if missing:
            names = ", ".join(f"«{m}»" for m in missing)
            c.add(flow, f"điều kiện dùng {names} nhưng không biểu mẫu nào ở các bước trước có trường này; hãy chọn "
                        "trường từ danh sách của bước trước")
    for task in process.iter(f"{{{BPMN_NS}}}userTask"):
        props = _properties(task)
        for prop in ("candidateDepartmentField", "candidateUserField", "dueField"):
            value = (props.get(prop) or "").strip()
            if value and _FIELD_RE.match(value) and value not in provided_before(task.get("id", "")):
                c.add(task, f"«{_PROP_LABELS[prop]}» là «{value}» nhưng không bước nào trước đó cung cấp trường này")


def _check_top_level(c: _Collector, root: etree._Element) -> None:
    if _local(root) != (BPMN_NS, "definitions"):
        c.add(None, "Tệp không phải sơ đồ quy trình BPMN")
        return
    for node in root:
        ns, local = _local(node)
        if ns != BPMN_NS:
            continue  # bpmndi layout and vendor extensions only decorate the diagram
        if local not in _TOP_LEVEL_ALLOWED:
            c.add(node, "khai báo này chưa được hỗ trợ; hãy xóa nó khỏi tệp")
        if local == "collaboration":
            for child in node:
                cns, clocal = _local(child)
                if cns == BPMN_NS and clocal not in _COLLABORATION_ALLOWED:
                    c.add(child, "phần tử này của sơ đồ cộng tác chưa được hỗ trợ")


def _engine_problem(c: _Collector, root: etree._Element, xml: str) -> Any:
    """Let the engine build the diagram too, in the same round; say in Vietnamese what it refused."""
    try:
        return build_diagram(xml, copy.deepcopy(root))
    except DiagramInvalidError as exc:
        for problem in exc.problems:
            if problem.element_id and c.about(problem.element_id):
                continue  # already explained in the admin's words
            c.problems.append(problem)
        return None


def validate_diagram(
    xml: str,
    *,
    known_roles: Collection[str],
    known_forms: Collection[str] | None = None,
    known_operations: Collection[str] | None = None,
    contract: ContractInfo | None = None,
) -> DiagramInfo:
    """Return what the diagram declares, or raise DiagramInvalidError listing every problem found.

    Every process of the file with steps is checked, marked executable or not. ``known_forms=None``
    skips the form check (forms not loaded yet); ``known_operations=None`` means the operations
    registered in this process; ``contract`` adds the checks of the process kind, the forms' fields
    and the agency's positions (DESIGN.md, "The contract between a diagram and the domain").
    """
    root = parse_xml(xml)
    c = _Collector()
    contract = contract or ContractInfo()
    operations = registered_operations() if known_operations is None else frozenset(known_operations)
    kind_of = process_kind(contract.process_key) if contract.process_key else None
    _check_top_level(c, root)
    processes = executable_processes(root)
    if not processes:
        c.add(None, "Sơ đồ chưa có quy trình nào có bước xử lý")
    elif len(processes) > 1:
        names = ", ".join(f"«{p.get('name') or p.get('id')}»" for p in processes)
        c.add(None, f"Tệp có {len(processes)} quy trình có bước xử lý ({names}); mỗi sơ đồ chỉ chạy một quy "
                    "trình — hãy để các bên khác thành làn của cùng một quy trình hoặc tách thành từng tệp")
    for process in processes:
        _check_elements(c, process)
        _check_events(c, process)
        lane_of = _check_lanes(c, process, known_roles, contract)
        _check_user_tasks(c, process, lane_of, known_forms, contract, kind_of)
        if kind_of is not None:
            _check_kinds(c, process, kind_of)
        _check_service_tasks(c, process, operations)
        _check_flows(c, process)
        _check_reachable(c, process)
        _check_condition_fields(c, process, kind_of, contract)
    diagram = _engine_problem(c, root, xml) if len(processes) == 1 else None
    if c.problems or diagram is None:
        raise DiagramInvalidError(c.problems or [ProblemInfo(None, None, "Sơ đồ không dựng được")])
    tasks = tuple(UserTaskInfo(**vars(meta)) for meta in diagram.user_tasks.values())
    return DiagramInfo(
        sha256=sha256_of(xml),
        process_id=diagram.process_id,
        process_name=diagram.process_name,
        user_tasks=tasks,
        lanes=frozenset(t.lane for t in tasks if t.lane),
        form_keys=frozenset(t.form_key for t in tasks if t.form_key),
        operations=frozenset(_operations_in(processes)),
    )


def _operations_in(processes: Iterable[etree._Element]) -> set[str]:
    return {
        op.get("id", "")
        for process in processes
        for op in process.iter(f"{{{SPIFF_NS}}}serviceTaskOperator")
    }


def referenced_fields(xml: str) -> dict[str, frozenset[str]]:
    """Data names a diagram reads, each with the ids of the elements that read it.

    Gateway and flow conditions, MI expressions, timer values and service-task parameters contribute
    the names they use (not constants or allowed functions); ``candidateDepartmentField``,
    ``candidateUserField``, ``dueField`` and ``loopDataInputRef`` contribute their value. The designer
    and the tests compare this with the fields of the diagram's forms, so a renamed field is caught.
    """
    root = parse_xml(xml)
    found: dict[str, set[str]] = {}

    def add(name: str, node: etree._Element) -> None:
        found.setdefault(name, set()).add(_owner(node).get("id") or "")

    def add_expression(text: str | None, node: etree._Element) -> None:
        if text and text.strip():
            for name in expression_names(text.strip()):
                add(name, node)

    for process in executable_processes(root):
        for condition in process.iter(f"{{{BPMN_NS}}}conditionExpression"):
            add_expression(condition.text, condition)
        for local in ("loopCardinality", "completionCondition", "timeDuration", "timeDate", "timeCycle"):
            for node in process.iter(f"{{{BPMN_NS}}}{local}"):
                add_expression(node.text, node)
        for param in process.iter(f"{{{SPIFF_NS}}}parameter"):
            add_expression(param.get("value"), param)
        for task in process.iter(f"{{{BPMN_NS}}}userTask"):
            props = _properties(task)
            for prop in ("candidateDepartmentField", "candidateUserField", "dueField"):
                if props.get(prop):
                    add(props[prop].strip(), task)
            for ref in task.iterfind("bpmn:multiInstanceLoopCharacteristics/bpmn:loopDataInputRef", NS):
                if ref.text and ref.text.strip():
                    add(ref.text.strip(), task)
    return {name: frozenset(ids) for name, ids in found.items()}


def produced_fields(xml: str) -> frozenset[str]:
    """Names a diagram itself puts into the data: multi-instance input items (one per child task)."""
    root = parse_xml(xml)
    return frozenset(
        item.get("id", "")
        for process in executable_processes(root)
        for item in process.iter(f"{{{BPMN_NS}}}inputDataItem")
        if item.get("id")
    )
