"""Step kinds: what a step of a diagram means, declared by the domain that owns the process.

A diagram decides who does what next; the domain decides what a step means (DESIGN.md, "The contract").
Every user task carries its kind in the QLVB extension attribute ``qlvb:stepKind`` (service tasks take
the kind their operation declares), so element ids are free for the agency admin to change.

Domain packages register, at app start, the process kinds they own (which step kinds a diagram of that
process may use and which it must contain) and, per kind, a *handler* that performs the step's domain
effects (numbering, status, signatures …) around the engine step, and a *prefill* for its form. The
workflow adapter calls them by kind; it never imports a domain package.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.workflow.info import ActorRef, HumanTaskInfo, InstanceInfo

QLVB_NS = "https://qlvb.vinhphuc.gov.vn/schema/bpmn/1.0"
STEP_KIND_ATTR = f"{{{QLVB_NS}}}stepKind"
ROLE_ATTR = f"{{{QLVB_NS}}}role"


@dataclass(frozen=True)
class FieldNeed:
    """A value a step kind reads from its form (``name``), shown to the admin by ``label``."""

    name: str
    label: str


@dataclass(frozen=True)
class InputNeed:
    """Something the person types on the step's page besides its form, never stored with the step (a PIN)."""

    name: str
    label: str
    kind: str = "text"  # text | password | textarea
    help: str = ""


@dataclass(frozen=True)
class StepKindInfo:
    code: str
    label: str
    description: str
    fields: tuple[FieldNeed, ...] = ()
    unique: bool = False  # at most one step of this kind per diagram
    automatic: bool = False  # done by a service step (its operation), not by a person
    roles: tuple[str, ...] = ()  # the lanes it usually sits in (a hint for the designer)
    produces: tuple[str, ...] = ()  # data names the step adds for later conditions (besides its form's)
    asks: tuple[InputNeed, ...] = ()  # inputs its page shows beside the form
    # The one form field that may be chosen for several such steps at once from the inbox (e.g. the lead
    # department of an assignment); None: this kind is completed one by one, on its own page.
    bulk_field: str | None = None




@dataclass(frozen=True)
class ProcessKindInfo:
    key: str
    label: str
    subject_type: str
    steps: tuple[StepKindInfo, ...]
    required: tuple[str, ...] = ()
    start_fields: tuple[str, ...] = ()  # data every instance of this process starts with
    owner: str = "platform"  # "platform" (a domain package) or "agency" (created in the designer)
    description: str = ""

    def kind(self, code: str) -> StepKindInfo | None:
        for kind in (*self.steps, *GENERIC_KINDS):
            if kind.code == code:
                return kind
        return None

    @property
    def all_kinds(self) -> tuple[StepKindInfo, ...]:
        own = {k.code for k in self.steps}
        return (*self.steps, *(k for k in GENERIC_KINDS if k.code not in own))


# Data every instance starts with, whatever its process (workflow/services.start_instance).
BASE_START_FIELDS = ("initiator_id", "initiator_department_id")

# Kinds any process may use: they have no effect beyond the engine step itself.
GENERIC_KINDS: tuple[StepKindInfo, ...] = (
    StepKindInfo("task", "Bước xử lý", "Một người thực hiện và ghi kết quả vào biểu mẫu; không có tác động "
                 "nào khác lên hồ sơ."),
    StepKindInfo("review", "Xem xét, cho ý kiến", "Người được giao xem xét và chọn đồng ý hoặc trả lại; "
                 "các nhánh sau đó rẽ theo lựa chọn «decision».",
                 fields=(FieldNeed("decision", "Ý kiến (đồng ý / trả lại)"),)),
)


@dataclass(frozen=True)
class StepContext:
    """One completion of a step, as the handler of its kind sees it."""

    task: HumanTaskInfo
    actor: ActorRef
    data: Mapping[str, Any]  # the validated form values
    comment: str | None
    inputs: Mapping[str, Any] = field(default_factory=dict)  # what the page posted besides the form


# The engine part of the step: takes the data to store with the task, returns the instance after it.
Proceed = Callable[[Mapping[str, Any]], InstanceInfo]
StepHandler = Callable[[StepContext, Proceed], Any]  # its result is ignored: the step's is what proceed returned
Prefill = Callable[[HumanTaskInfo], dict[str, Any]]
CompletionHook = Callable[[InstanceInfo], None]

_lock = threading.Lock()
_process_kinds: dict[str, ProcessKindInfo] = {}
_handlers: dict[tuple[str, str], StepHandler] = {}
_subject_handlers: dict[tuple[str, str], StepHandler] = {}
_prefills: dict[tuple[str, str], Prefill] = {}
_completion_hooks: dict[str, CompletionHook] = {}
# Agency-created process kinds live in the database; the designer package supplies them through this.
_extra_source: Callable[[], Iterable[ProcessKindInfo]] | None = None


def register_process_kind(info: ProcessKindInfo) -> None:
    """Declare a process kind (idempotent; a new declaration of the same key replaces the old one)."""
    codes = [k.code for k in info.steps]
    if len(codes) != len(set(codes)):
        raise ValueError(f"process kind {info.key!r} declares a step kind twice")
    unknown = [code for code in info.required if info.kind(code) is None]
    if unknown:
        raise ValueError(f"process kind {info.key!r} requires undeclared kinds {unknown}")
    with _lock:
        _process_kinds[info.key] = info


def set_extra_process_kinds(source: Callable[[], Iterable[ProcessKindInfo]] | None) -> None:
    global _extra_source
    _extra_source = source


def process_kind(key: str) -> ProcessKindInfo | None:
    found = _process_kinds.get(key)
    if found is not None or _extra_source is None:
        return found
    return next((p for p in _extra_source() if p.key == key), None)


def process_kinds() -> list[ProcessKindInfo]:
    out = dict(_process_kinds)
    if _extra_source is not None:
        for info in _extra_source():
            out.setdefault(info.key, info)
    return list(out.values())


def register_step_handler(process_key: str, kind: str, handler: StepHandler) -> None:
    with _lock:
        _handlers[(process_key, kind)] = handler


def register_subject_handler(subject_type: str, kind: str, handler: StepHandler) -> None:
    """A handler for ``kind`` in every process about ``subject_type`` that has none of its own (the
    processes agencies create: their keys are not known when the code is written)."""
    with _lock:
        _subject_handlers[(subject_type, kind)] = handler


def step_handler(process_key: str, kind: str | None, subject_type: str | None = None) -> StepHandler | None:
    """The handler of ``kind`` in ``process_key``; none when the instance is about another kind of subject
    than the process kind declares (its effects belong to that subject's domain)."""
    if not kind:
        return None
    if subject_type is not None:
        info = _process_kinds.get(process_key)
        if info is not None and info.subject_type != subject_type:
            return None
    found = _handlers.get((process_key, kind))
    if found is None and subject_type is not None and process_key not in _process_kinds:
        found = _subject_handlers.get((subject_type, kind))
    return found


def register_prefill(process_key: str, kind: str, fn: Prefill) -> None:
    with _lock:
        _prefills[(process_key, kind)] = fn


def prefill_for(task: HumanTaskInfo) -> dict[str, Any] | None:
    """The initial form values the domain proposes for this step (None: the form's defaults)."""
    fn = _prefills.get((task.process_key, task.step_kind or ""))
    return fn(task) if fn is not None else None


def register_completion_hook(process_key: str, fn: CompletionHook) -> None:
    """Called in the step's transaction when an instance of ``process_key`` reaches its end."""
    with _lock:
        _completion_hooks[process_key] = fn


def completion_hook(process_key: str, subject_type: str | None = None) -> CompletionHook | None:
    info = _process_kinds.get(process_key)
    if subject_type is not None and info is not None and info.subject_type != subject_type:
        return None
    return _completion_hooks.get(process_key)


def kind_info(process_key: str, code: str | None) -> StepKindInfo | None:
    if not code:
        return None
    info = process_kind(process_key)
    if info is not None:
        return info.kind(code)
    return next((k for k in GENERIC_KINDS if k.code == code), None)


def kind_label(process_key: str, code: str | None) -> str:
    """The Vietnamese name of a step kind ("" when unknown)."""
    if not code:
        return ""
    info = process_kind(process_key)
    kind = info.kind(code) if info is not None else next((k for k in GENERIC_KINDS if k.code == code), None)
    return kind.label if kind is not None else ""
