"""The engine facade: run, step, snapshot and restore workflows without leaking SpiffWorkflow types.

A ``WorkflowRun`` wraps one BpmnWorkflow. Its state is dumped as one small instance-level JSON plus
one JSON string per engine task, so the persistence layer can write only the tasks that changed and
never stores the spec (the spec is rebuilt from the version's XML, see loader.load_diagram).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import ChainMap
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import TaskConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.specs.mixins import (
    EventBasedGatewayMixin,
    ExclusiveGatewayMixin,
    InclusiveGatewayMixin,
    UserTaskMixin,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG as SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from app.core import clock
from app.core.text import nfc_any
from app.workflow.due import due_in_working_days, end_of_day
from app.workflow.errors import ExpressionError, OperationError, StepNotWaitingError, WorkflowRuntimeError
from app.workflow.expressions import evaluate
from app.workflow.loader import Diagram
from app.workflow.operations import InstanceRef, get_operation

_CHOOSING_GATEWAYS = (ExclusiveGatewayMixin, InclusiveGatewayMixin, EventBasedGatewayMixin)


@lru_cache(maxsize=32768)
def _uuid(value: str) -> UUID:
    """Task ids come back as strings three times per task (id, parent, children) and at every cold restore."""
    return UUID(value)


class _TaskConverter(TaskConverter):
    """Spiff's TaskConverter.from_dict with task ids parsed once (a cold restore's main Python cost)."""

    def from_dict(self, dct: dict[str, Any], workflow: Any) -> Any:
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = self.target_class(workflow, task_spec, state=dct["state"], id=_uuid(dct["id"]))
        task._parent = _uuid(dct["parent"]) if dct["parent"] is not None else None
        task._children = [_uuid(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        internal = dct["internal_data"]
        task.internal_data = self.registry.restore(internal) if internal else {}
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            task.workflow.top_workflow.event_manager.add_task(task)
        delta = dct.get("delta")
        if delta and task.parent is not None:
            data = DeepMerge.merge({}, task.parent.data)
            updates = delta.get("updates")
            if updates:
                data.update(self.registry.restore(updates))
            for key in delta.get("deletions", ()):
                data.pop(key, None)
        else:
            data = self.registry.restore(dct["data"])
        task.data = data
        return task


_CONFIG = {**SPIFF_CONFIG, Task: _TaskConverter}
_REGISTRY = BpmnWorkflowSerializer.configure(_CONFIG)
# Dumping uses its own registry left in encoder mode for good (the JSON encoder finishes the conversion):
# toggling the flag on a shared registry around each dump would race between request threads.
_DUMP_REGISTRY = BpmnWorkflowSerializer.configure(_CONFIG)
_DUMP_REGISTRY._encoder_mode = True
_ENCODER = create_encoder(_DUMP_REGISTRY)
_SERIALIZER = BpmnWorkflowSerializer(_REGISTRY)
# Tasks in these states may have their data or internal data changed in place without a state change.
_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
# The JSON key Spiff would read as a serialized object (spiff-arena #1712): refuse it in form data.
_RESERVED_DATA_KEYS = {"typename"}


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """Script environment that never calls eval/exec: expressions go to the restricted evaluator."""

    def evaluate(
        self, expression: str, context: Mapping[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> Any:
        names = ChainMap(dict(context), dict(external_context or {})) if external_context else context
        return evaluate(expression, names)

    def execute(self, script: str, context: Any, external_context: Any = None) -> bool:
        raise ExpressionError("Sơ đồ không được phép chạy kịch bản (script); hãy dùng bước tự động đã đăng ký")

    def call_service(self, context: Any, **kwargs: Any) -> str:
        raise OperationError("Thao tác tự động phải được gọi qua bộ máy quy trình của QLVB")


class QlvbScriptEngine(PythonScriptEngine):
    """Binds expressions to SafeEnvironment and service tasks to the operation registry."""

    def __init__(self, instance: InstanceRef):
        super().__init__(environment=SafeEnvironment())
        self.instance = instance
        self.calls: list[str] = []

    def validate(self, expression: str) -> None:
        from app.workflow.expressions import check_expression

        check_expression(expression)

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        # ExpressionError carries the Vietnamese message; Spiff's wrapper would bury it. The task it
        # failed on goes with it, so an incident names the element.
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ExpressionError as exc:
            exc.task = task
            raise

    def execute(self, task: Any, script: str, external_context: Any = None) -> bool:
        return self.environment.execute(script, task.data, external_context)

    def call_service(self, task: Any, **kwargs: Any) -> str:
        name = kwargs["operation_name"]
        params = {k: v["value"] for k, v in (kwargs.get("operation_params") or {}).items()}
        operation = get_operation(name)
        self.calls.append(name)
        try:
            result = operation(self.instance, {**task.data, **params})
        except (OperationError, ExpressionError) as exc:
            exc.task = task
            raise
        except Exception as exc:  # an operation belongs to another package; name it in the message
            detail = f": {exc.message}" if hasattr(exc, "message") else ""
            failure = OperationError(f"Thao tác tự động «{name}» thất bại{detail}")
            failure.task = task
            raise failure from exc
        if result:
            task.data.update(_json_safe(dict(result)))
        return "null"


@dataclass(frozen=True)
class ReadyTaskInfo:
    """A user task waiting for a person, with its assignment resolved from the diagram and data."""

    task_uuid: str
    bpmn_id: str
    name: str
    lane: str | None
    form_key: str | None
    candidate_department_id: int | None
    candidate_user_id: int | None
    due_at: dt.datetime | None
    multi_instance_item: Any = None
    step_kind: str | None = None


@dataclass(frozen=True)
class WorkflowState:
    """A workflow's persisted form: instance-level JSON and one JSON per task, in creation order."""

    meta: str
    tasks: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkflowChanges:
    """What a step changed: the instance-level JSON, new and changed task rows, and removed task ids."""

    meta: str
    added: dict[str, str]
    changed: dict[str, str]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class TimerInfo:
    bpmn_id: str
    fires_at: dt.datetime | None


def _json_safe(data: Any) -> Any:
    """Normalise form values to JSON types (dates as ISO strings) and NFC text."""
    if isinstance(data, dict):
        return {str(k): _json_safe(v) for k, v in data.items()}
    if isinstance(data, list | tuple | set | frozenset):
        return [_json_safe(v) for v in data]
    if isinstance(data, dt.datetime | dt.date):
        return data.isoformat()
    if isinstance(data, str):
        return nfc_any(data)
    if data is None or isinstance(data, bool | int | float):
        return data
    raise WorkflowRuntimeError(f"Dữ liệu kiểu {type(data).__name__} không lưu được vào quy trình")


def _as_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _due_from_field(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        if isinstance(value, str) and "T" in value:
            parsed = dt.datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=clock.VN_TZ).astimezone(dt.UTC)
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
        return end_of_day(day)
    except ValueError:
        return None


def _runtime_error(exc: Exception, diagram: Diagram) -> WorkflowRuntimeError:
    if isinstance(exc, ExpressionError | OperationError):
        message = exc.message
    else:
        message = str(getattr(exc, "message", None) or exc)
    task = getattr(exc, "task", None)
    bpmn_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None) if task is not None else None
    if bpmn_id:
        name = diagram.element_names.get(bpmn_id, bpmn_id)
        return WorkflowRuntimeError(f'Quy trình dừng tại «{name}» (mã {bpmn_id}): {message}', element_id=bpmn_id,
                                    element_name=name, log=f"{type(exc).__name__}: {exc}")
    return WorkflowRuntimeError(f"Quy trình không chạy tiếp được: {message}", log=f"{type(exc).__name__}: {exc}")


def _signature(task: Any) -> tuple[Any, ...]:
    return (task.state, task.last_state_change, task.triggered, tuple(task._children))


def _encode_task(task: Any) -> str:
    return json.dumps(_DUMP_REGISTRY.convert(task), cls=_ENCODER, separators=(",", ":"))


class WorkflowRun:
    """One running workflow. Create with ``start_run`` or ``restore_run``."""

    def __init__(self, diagram: Diagram, workflow: BpmnWorkflow, stored: dict[str, str] | None = None):
        self.diagram = diagram
        self._wf = workflow
        # The task JSON as last persisted, and each task's signature then: a step re-encodes only the
        # tasks whose signature moved (plus live ones), so its cost does not grow with the instance.
        self._stored: dict[str, str] = stored if stored is not None else {}
        self._signatures: dict[UUID, tuple[Any, ...]] = (
            {uid: _signature(task) for uid, task in workflow.tasks.items()} if self._stored else {}
        )

    # -- reading ---------------------------------------------------------------------------
    @property
    def completed(self) -> bool:
        return bool(self._wf.completed)

    @property
    def data(self) -> dict[str, Any]:
        """The workflow's data: the last completed task's data, or the final data once finished."""
        if self._wf.completed:
            return dict(self._wf.data)
        last = self._wf.last_task
        return dict(last.data) if last is not None else {}

    @property
    def operations_called(self) -> tuple[str, ...]:
        """Operations run by service tasks since this object was created, restored or last asked."""
        return tuple(self._wf.script_engine.calls)

    def take_operations_called(self) -> tuple[str, ...]:
        """The operations run since the last call, then forget them (a cached run lives across steps)."""
        calls = tuple(self._wf.script_engine.calls)
        self._wf.script_engine.calls.clear()
        return calls

    def ready_user_tasks(self) -> list[ReadyTaskInfo]:
        # A flat scan of the task dict (creation order) instead of Spiff's filtered tree walk: same set, 5x cheaper.
        return [
            self._describe(task)
            for task in self._wf.tasks.values()
            if task.state == TaskState.READY and isinstance(task.task_spec, UserTaskMixin)
        ]

    def ready_task_uuids(self) -> list[str]:
        """Ids of the READY user tasks, in creation order (cheap: no assignment or due date worked out)."""
        return [
            str(uid)
            for uid, task in self._wf.tasks.items()
            if task.state == TaskState.READY and isinstance(task.task_spec, UserTaskMixin)
        ]

    def describe_ready(self, task_uuids: Collection[str]) -> list[ReadyTaskInfo]:
        return [self._describe(self._task(uid)) for uid in task_uuids]

    def reopened(self, task_uuids: Collection[str]) -> bool:
        """Whether any of these (new) tasks repeats a step already done: the route went back."""
        specs = {self._task(uid).task_spec for uid in task_uuids}
        if not specs:
            return False
        return any(t.task_spec in specs and t.state == TaskState.COMPLETED for t in self._wf.tasks.values())

    def repeated(self, task_uuid: str) -> bool:
        """Whether this (just completed) task's step had been completed before in this instance."""
        spec = self._task(task_uuid).task_spec
        meta = self.diagram.user_tasks.get(getattr(spec, "bpmn_id", None) or "")
        if meta is not None and meta.multi_instance:
            return False  # the parallel copies of one step are not repeats
        return sum(1 for t in self._wf.tasks.values() if t.task_spec is spec and t.state == TaskState.COMPLETED) > 1

    def task_data(self, task_uuid: str) -> dict[str, Any]:
        return dict(self._task(task_uuid).data)

    def completed_bpmn_ids(self) -> set[str]:
        return {
            t.task_spec.bpmn_id
            for t in self._wf.get_tasks(state=TaskState.COMPLETED)
            if getattr(t.task_spec, "bpmn_id", None)
        }

    def active_bpmn_ids(self) -> set[str]:
        return {
            t.task_spec.bpmn_id
            for t in self._wf.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)
            if getattr(t.task_spec, "bpmn_id", None)
        }

    def waiting_timers(self) -> list[TimerInfo]:
        timers = []
        for event in self._wf.waiting_events():
            if event.event_type not in ("TimerEventDefinition", "DurationTimerEventDefinition",
                                        "TimeDateEventDefinition", "CycleTimerEventDefinition"):
                continue
            fires_at = None
            if isinstance(event.value, str):
                try:
                    fires_at = dt.datetime.fromisoformat(event.value)
                except ValueError:
                    fires_at = None
            timers.append(TimerInfo(bpmn_id=str(event.name), fires_at=fires_at))
        return timers

    def next_timer_at(self) -> dt.datetime | None:
        times = [t.fires_at for t in self.waiting_timers() if t.fires_at is not None]
        return min(times) if times else None

    # -- acting ----------------------------------------------------------------------------
    def complete_task(self, task_uuid: str, form_data: Mapping[str, Any]) -> None:
        task = self._task(task_uuid)
        if not task.has_state(TaskState.READY) or not isinstance(task.task_spec, UserTaskMixin):
            raise StepNotWaitingError(
                "Công việc này đã được xử lý bởi người khác hoặc hồ sơ vừa thay đổi; vui lòng tải lại trang")
        data = _json_safe(dict(form_data))
        bad = _RESERVED_DATA_KEYS.intersection(data)
        if bad:
            raise WorkflowRuntimeError(f'Tên trường "{sorted(bad)[0]}" được hệ thống dành riêng')
        task.set_data(**data)
        self._guarded(task.run)
        self.run_engine()

    def run_engine(self) -> None:
        self._guarded(lambda: self._wf.do_engine_steps())

    def refresh_timers(self) -> None:
        self._guarded(self._wf.refresh_timers)
        self.run_engine()

    def skip_element(self, bpmn_id: str) -> None:
        """Move past an automatic element that keeps failing (an incident) without running it."""
        wf = self._wf
        self._guarded(wf.refresh_timers)
        skipped = False
        for _ in range(1000):  # the engine's own loop, except that the failing element is completed, not run
            ready = [t for t in wf.get_tasks(state=TaskState.READY) if not t.task_spec.manual]
            if not ready:
                break
            for task in ready:
                if not skipped and task.task_spec.bpmn_id == bpmn_id:
                    if isinstance(task.task_spec, _CHOOSING_GATEWAYS):
                        raise WorkflowRuntimeError("Không bỏ qua được cổng rẽ nhánh: cần biết đi theo nhánh nào. "
                                                   "Hãy thử lại sau khi sửa dữ liệu, hoặc hủy quy trình.")
                    task.complete()
                    skipped = True
                else:
                    self._guarded(task.run)
        if not skipped:
            raise WorkflowRuntimeError("Bước gặp sự cố không còn chờ chạy; hãy thử lại quy trình")
        self.run_engine()

    def cancel(self) -> None:
        self._wf.cancel()

    # -- persistence -----------------------------------------------------------------------
    def dump(self) -> WorkflowState:
        """The whole state (every task encoded); steps use ``dump_changes``."""
        tasks = {str(uid): _encode_task(task) for uid, task in self._wf.tasks.items()}
        return WorkflowState(meta=self._meta_json(), tasks=tasks)

    def dump_changes(self) -> WorkflowChanges:
        """Encode only the tasks that may have changed since the last dump or restore, and diff them.

        A task is re-encoded when it is new, live (READY/WAITING/STARTED/ERROR), its state, state time,
        trigger flag or children moved, or its parent was re-encoded (Spiff stores a task's data as a
        delta against its parent's). Finished and predicted tasks are otherwise left alone: the engine
        only changes them through a state change.
        """
        tasks = self._wf.tasks
        signatures = self._signatures
        dirty: dict[UUID, Any] = {}
        for uid, task in tasks.items():
            signature = _signature(task)
            if task.state & _LIVE or signatures.get(uid) != signature:
                dirty[uid] = task
                signatures[uid] = signature
        for task in list(dirty.values()):
            for child_id in task._children:
                child = tasks.get(child_id)
                if child is not None:
                    dirty.setdefault(child_id, child)
        stored = self._stored
        added: dict[str, str] = {}
        changed: dict[str, str] = {}
        # Creation order, so a restore always meets a parent before its children.
        for uid, task in tasks.items():
            if uid not in dirty:
                continue
            key = str(uid)
            encoded = _encode_task(task)
            previous = stored.get(key)
            if previous is None:
                added[key] = encoded
            elif previous != encoded:
                changed[key] = encoded
            else:
                continue
            stored[key] = encoded
        removed: tuple[str, ...] = ()
        if len(stored) != len(tasks):
            removed = tuple(key for key in stored if UUID(key) not in tasks)
            for key in removed:
                del stored[key]
                signatures.pop(UUID(key), None)
        return WorkflowChanges(meta=self._meta_json(), added=added, changed=changed, removed=removed)

    def _meta_json(self) -> str:
        wf = self._wf
        meta = {
            "data": _DUMP_REGISTRY.clean(wf.data),
            "correlations": wf.correlations,
            "last_task": str(wf.last_task.id) if wf.last_task is not None else None,
            "success": wf.success,
            "completed": wf.completed,
            "root": str(wf.task_tree.id),
            "bpmn_events": wf.bpmn_events,
            "serializer_version": _SERIALIZER.VERSION,
        }
        return json.dumps(meta, cls=_ENCODER, separators=(",", ":"))

    # -- helpers ---------------------------------------------------------------------------
    def _task(self, task_uuid: str) -> Any:
        try:
            task = self._wf.get_task_from_id(UUID(str(task_uuid)))
        except (ValueError, TypeError):
            task = None
        except (WorkflowException, KeyError):
            task = None
        if task is None:
            raise WorkflowRuntimeError("Không tìm thấy bước cần xử lý trong quy trình")
        return task

    def _guarded(self, fn: Any) -> Any:
        try:
            return fn()
        except (ExpressionError, OperationError, SpiffWorkflowException) as exc:
            raise _runtime_error(exc, self.diagram) from exc

    def _describe(self, task: Any) -> ReadyTaskInfo:
        spec = task.task_spec
        meta = self.diagram.user_tasks.get(spec.bpmn_id)
        data = task.data
        department_id = user_id = None
        due_at = None
        form_key = lane = step_kind = None
        item = None
        if meta is not None:
            form_key, lane, step_kind = meta.form_key, meta.lane, meta.step_kind
            if meta.candidate_department_field:
                department_id = _as_int(data.get(meta.candidate_department_field))
            if meta.candidate_user_field:
                user_id = _as_int(data.get(meta.candidate_user_field))
            if meta.due_field:
                due_at = _due_from_field(data.get(meta.due_field))
            if due_at is None and meta.due_days is not None:
                due_at = due_in_working_days(meta.due_days)
            if meta.multi_instance:
                item = _mi_item(task)
        return ReadyTaskInfo(
            task_uuid=str(task.id),
            bpmn_id=spec.bpmn_id,
            name=spec.bpmn_name or spec.bpmn_id,
            lane=lane if lane is not None else spec.lane,
            form_key=form_key,
            candidate_department_id=department_id,
            candidate_user_id=user_id,
            due_at=due_at,
            multi_instance_item=item,
            step_kind=step_kind,
        )


def _mi_item(task: Any) -> Any:
    parent = task.parent
    input_item = getattr(getattr(parent, "task_spec", None), "input_item", None)
    if input_item is not None:
        return task.data.get(input_item.bpmn_id)
    return None


def start_run(diagram: Diagram, data: Mapping[str, Any], instance: InstanceRef) -> WorkflowRun:
    """Create a workflow on ``diagram`` with initial ``data`` and run it to the first waits."""
    workflow = BpmnWorkflow(diagram.spec, diagram.subprocess_specs, script_engine=QlvbScriptEngine(instance))
    start = workflow.task_tree
    start.data.update(_json_safe(dict(data)))
    run = WorkflowRun(diagram, workflow, stored={})
    run.run_engine()
    return run


def restore_run(diagram: Diagram, state: WorkflowState, instance: InstanceRef) -> WorkflowRun:
    """Rebuild a workflow from its persisted state, reusing the cached spec (never deserialised)."""
    meta = json.loads(state.meta)
    meta.pop("serializer_version", None)
    workflow = BpmnWorkflow(
        diagram.spec, diagram.subprocess_specs, script_engine=QlvbScriptEngine(instance), deserializing=True
    )
    tasks: dict[UUID, Any] = {}
    workflow.tasks = tasks
    # One parse for all the rows (half the cost of one per row); every row is a serialized Task.
    restore_task = _REGISTRY.convert_from_dict["Task"]
    for task_dict in json.loads("[" + ",".join(state.tasks.values()) + "]"):
        restore_task(task_dict, workflow=workflow)  # Task() registers itself in workflow.tasks
    workflow.task_tree = tasks[_uuid(meta["root"])]
    workflow.success = meta["success"]
    workflow.completed = meta.get("completed", False)
    workflow.correlations = meta.get("correlations", {})
    workflow.last_task = tasks.get(_uuid(meta["last_task"])) if meta.get("last_task") else None
    workflow.data = _REGISTRY.restore(meta.get("data", {}))
    workflow.bpmn_events = _REGISTRY.restore(meta.get("bpmn_events", []))
    return WorkflowRun(diagram, workflow, stored=dict(state.tasks))
