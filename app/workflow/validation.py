"""Check a diagram against what QLVB can run, collecting every problem with the element it concerns."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from lxml import etree

from app.workflow.errors import DiagramInvalidError, ExpressionError, ProblemInfo
from app.workflow.expressions import check_expression, expression_names
from app.workflow.loader import BPMN_NS, NS, SPIFF_NS, build_diagram, executable_processes, parse_xml, sha256_of
from app.workflow.operations import registered_operations

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

# Why an element is refused, in words an admin can act on.
_REFUSED = {
    "scriptTask": "bước kịch bản (scriptTask) không được phép trong sơ đồ; dùng bước tự động (serviceTask) "
    "với thao tác đã đăng ký",
    "businessRuleTask": "bảng quyết định (businessRuleTask) chưa được hỗ trợ",
    "callActivity": "gọi quy trình con (callActivity) chưa được hỗ trợ",
    "subProcess": "quy trình con (subProcess) chưa được hỗ trợ",
    "adHocSubProcess": "quy trình con tùy biến chưa được hỗ trợ",
    "transaction": "giao dịch (transaction) chưa được hỗ trợ",
    "sendTask": "gửi thông điệp (sendTask) chưa được hỗ trợ",
    "receiveTask": "nhận thông điệp (receiveTask) chưa được hỗ trợ",
    "manualTask": "bước thủ công (manualTask) không được hỗ trợ; dùng bước người dùng (userTask) có biểu mẫu",
    "task": "bước chưa chọn loại; hãy chọn bước người dùng (userTask) hoặc bước tự động (serviceTask)",
    "intermediateThrowEvent": "sự kiện phát chưa được hỗ trợ",
    "eventBasedGateway": "cổng sự kiện chưa được hỗ trợ",
    "complexGateway": "cổng phức hợp chưa được hỗ trợ",
    "messageEventDefinition": "sự kiện thông điệp chưa được hỗ trợ",
    "signalEventDefinition": "sự kiện tín hiệu chưa được hỗ trợ",
    "errorEventDefinition": "sự kiện lỗi chưa được hỗ trợ",
    "escalationEventDefinition": "sự kiện leo thang chưa được hỗ trợ",
    "conditionalEventDefinition": "sự kiện điều kiện chưa được hỗ trợ",
    "compensateEventDefinition": "sự kiện bù trừ chưa được hỗ trợ",
    "cancelEventDefinition": "sự kiện hủy chưa được hỗ trợ",
    "linkEventDefinition": "sự kiện liên kết chưa được hỗ trợ",
    "standardLoopCharacteristics": "vòng lặp chuẩn chưa được hỗ trợ; dùng luồng quay lại qua cổng rẽ nhánh",
    "dataObject": "đối tượng dữ liệu chưa được hỗ trợ",
    "dataObjectReference": "đối tượng dữ liệu chưa được hỗ trợ",
    "dataStoreReference": "kho dữ liệu chưa được hỗ trợ",
    "ioSpecification": "khai báo vào/ra chưa được hỗ trợ",
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
_TOP_LEVEL_ALLOWED = {"process", "collaboration", "extensionElements", "documentation"}
_COLLABORATION_ALLOWED = {"participant", "textAnnotation", "text", "association", "documentation",
                          "extensionElements"}
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
    name = (node.get("name") or "").strip()
    if name:
        return f'{label} "{name}" (id={element_id})'
    return f"{label} id={element_id}" if element_id else label


def _owner(node: etree._Element) -> etree._Element:
    """The nearest ancestor-or-self with an id (what the admin can click on)."""
    current: etree._Element | None = node
    while current is not None:
        if current.get("id"):
            return current
        current = current.getparent()
    return node


class _Collector:
    def __init__(self) -> None:
        self.problems: list[ProblemInfo] = []

    def add(self, node: etree._Element | None, message: str) -> None:
        if node is None:
            self.problems.append(ProblemInfo(None, None, message))
            return
        owner = _owner(node)
        self.problems.append(
            ProblemInfo(
                owner.get("id"),
                (owner.get("name") or "").strip() or None,
                f"{_describe(owner)}: {message}",
                line=node.sourceline,
            )
        )


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
    for node in process.iter():
        ns, local = _local(node)
        if ns is None:
            continue
        element_id = node.get("id")
        if element_id:
            if element_id in seen:
                c.add(node, f'mã "{element_id}" bị trùng với một phần tử khác')
            seen.add(element_id)
        if node.get("id") in _RESERVED_IDS:
            c.add(node, f'mã "{node.get("id")}" trùng với tên dành riêng của bộ máy quy trình; hãy đổi mã khác')
        if ns == BPMN_NS:
            if local in _REFUSED:
                c.add(node, _REFUSED[local])
            elif local not in _ALLOWED:
                c.add(node, f'loại phần tử "{local}" không được hỗ trợ')
        elif ns == SPIFF_NS:
            if local in ("preScript", "postScript", "script"):
                c.add(node, "kịch bản (script) trong phần mở rộng không được phép")
            elif local not in _ALLOWED_SPIFF:
                c.add(node, f'phần mở rộng "{local}" không được hỗ trợ')


def _check_events(c: _Collector, process: etree._Element) -> None:
    for kind in ("intermediateCatchEvent", "boundaryEvent"):
        for node in process.iter(f"{{{BPMN_NS}}}{kind}"):
            if node.find("bpmn:timerEventDefinition", NS) is None:
                c.add(node, "chỉ hỗ trợ sự kiện hẹn giờ (timer)")
    for node in process.iter(f"{{{BPMN_NS}}}startEvent"):
        if any(_local(child)[1].endswith("EventDefinition") for child in node):
            c.add(node, "sự kiện bắt đầu phải là loại thường (không hẹn giờ, không thông điệp)")
    for timer in process.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        for child in timer:
            if _local(child)[1] in ("timeDuration", "timeDate", "timeCycle"):
                _check_expression(c, child, child.text, "Biểu thức thời gian")
    if process.find("bpmn:startEvent", NS) is None:
        c.add(process, "quy trình chưa có sự kiện bắt đầu")
    if next(process.iter(f"{{{BPMN_NS}}}endEvent"), None) is None:
        c.add(process, "quy trình chưa có sự kiện kết thúc")


def _check_lanes(c: _Collector, process: etree._Element, known_roles: Collection[str]) -> dict[str, str]:
    lane_of: dict[str, str] = {}
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        name = (lane.get("name") or "").strip()
        if not name:
            c.add(lane, "làn chưa có tên vai trò")
        elif name not in known_roles:
            roles = ", ".join(sorted(known_roles))
            c.add(lane, f'vai trò "{name}" không tồn tại (các vai trò hợp lệ: {roles})')
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if ref.text:
                lane_of[ref.text.strip()] = name
    return lane_of


def _properties(node: etree._Element) -> dict[str, str]:
    return {
        p.get("name", ""): p.get("value", "")
        for p in node.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
    }


def _check_user_tasks(
    c: _Collector, process: etree._Element, lane_of: dict[str, str], known_forms: Collection[str] | None
) -> None:
    for task in process.iter(f"{{{BPMN_NS}}}userTask"):
        task_id = task.get("id", "")
        if task_id not in lane_of:
            c.add(task, "bước chưa nằm trong làn vai trò nào")
        props = _properties(task)
        form_key = props.get("formKey", "").strip()
        if not form_key:
            c.add(task, 'chưa khai báo biểu mẫu (thuộc tính "formKey")')
        elif known_forms is not None and form_key not in known_forms:
            c.add(task, f'biểu mẫu "{form_key}" không tồn tại')
        for prop in ("candidateDepartmentField", "candidateUserField", "dueField"):
            value = props.get(prop)
            if value is not None and not _FIELD_RE.match(value):
                c.add(task, f'thuộc tính "{prop}" phải là tên một trường dữ liệu (chữ, số, "_"), nhận "{value}"')
        if "dueDays" in props:
            raw = props["dueDays"]
            if not raw.isdigit() or not 0 <= int(raw) <= 365:
                c.add(task, f'thuộc tính "dueDays" phải là số ngày làm việc từ 0 đến 365, nhận "{raw}"')
        mi = task.find("bpmn:multiInstanceLoopCharacteristics", NS)
        if mi is not None:
            for child in mi:
                local = _local(child)[1]
                if local in ("loopCardinality", "completionCondition"):
                    _check_expression(c, child, child.text, "Biểu thức lặp")
                ref = (child.text or "").strip()
                if local in ("loopDataInputRef", "loopDataOutputRef") and not _FIELD_RE.match(ref):
                    c.add(child, f'"{local}" phải là tên một trường dữ liệu')


def _check_service_tasks(c: _Collector, process: etree._Element, known_operations: Collection[str]) -> None:
    for task in process.iter(f"{{{BPMN_NS}}}serviceTask"):
        operator = task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
        if operator is None or not operator.get("id"):
            c.add(task, 'chưa chọn thao tác tự động (spiffworkflow:serviceTaskOperator id="…")')
            continue
        name = operator.get("id", "")
        if name not in known_operations:
            c.add(task, f'thao tác tự động "{name}" chưa được đăng ký trong hệ thống')
        for param in operator.iter(f"{{{SPIFF_NS}}}parameter"):
            _check_expression(c, param, param.get("value"), f'Tham số "{param.get("id")}"')


def _check_flows(c: _Collector, process: etree._Element) -> None:
    flows_from: dict[str, list[etree._Element]] = {}
    ids = {node.get("id") for node in process.iter() if isinstance(node.tag, str) and node.get("id")}
    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        flows_from.setdefault(flow.get("sourceRef", ""), []).append(flow)
        for end in ("sourceRef", "targetRef"):
            if flow.get(end) not in ids:
                c.add(flow, f'luồng trỏ tới phần tử không tồn tại "{flow.get(end)}"')
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
                    c.add(flow, f'luồng ra từ {_describe(gateway)} thiếu điều kiện (và không phải luồng mặc định)')
    targets = {flow.get("targetRef") for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow")}
    for node in process:
        _, local = _local(node)
        needs_incoming = local in _LABELS and local not in ("sequenceFlow", "lane", "startEvent", "boundaryEvent")
        if needs_incoming and node.get("id") not in targets:
            c.add(node, "không có luồng nào đi vào")


def _check_top_level(c: _Collector, root: etree._Element) -> None:
    if _local(root) != (BPMN_NS, "definitions"):
        c.add(None, "Tệp không phải sơ đồ BPMN (thiếu phần tử bpmn:definitions)")
        return
    for node in root:
        ns, local = _local(node)
        if ns != BPMN_NS:
            continue  # bpmndi layout and vendor extensions only decorate the diagram
        if local not in _TOP_LEVEL_ALLOWED:
            c.add(node, f'khai báo "{local}" không được hỗ trợ')
        if local == "collaboration":
            for child in node:
                cns, clocal = _local(child)
                if cns == BPMN_NS and clocal not in _COLLABORATION_ALLOWED:
                    c.add(child, f'"{clocal}" trong sơ đồ cộng tác không được hỗ trợ')


def validate_diagram(
    xml: str,
    *,
    known_roles: Collection[str],
    known_forms: Collection[str] | None = None,
    known_operations: Collection[str] | None = None,
) -> DiagramInfo:
    """Return what the diagram declares, or raise DiagramInvalidError listing every problem found.

    ``known_forms=None`` skips the form check (forms not loaded yet); ``known_operations=None``
    means the operations registered in this process.
    """
    root = parse_xml(xml)
    c = _Collector()
    operations = registered_operations() if known_operations is None else frozenset(known_operations)
    _check_top_level(c, root)
    processes = executable_processes(root)
    if not processes:
        c.add(None, 'Sơ đồ không có quy trình nào được đánh dấu thực thi được (isExecutable="true")')
    elif len(processes) > 1:
        c.add(None, f"Sơ đồ có {len(processes)} quy trình thực thi được; chỉ được có một")
    for process in processes:
        _check_elements(c, process)
        _check_events(c, process)
        lane_of = _check_lanes(c, process, known_roles)
        _check_user_tasks(c, process, lane_of, known_forms)
        _check_service_tasks(c, process, operations)
        _check_flows(c, process)
    if c.problems:
        raise DiagramInvalidError(c.problems)
    diagram = build_diagram(xml, root)
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
