"""Registry of service-task operations.

Domain packages register callables at app start (``register_operation("documents.issue", fn)``); the
workflow package never imports them, so the dependency points downwards only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.workflow.errors import OperationError


@dataclass(frozen=True)
class InstanceRef:
    """What an operation learns about the instance that called it."""

    instance_id: int | None
    agency_id: int
    process_key: str
    subject_type: str
    subject_id: int
    version_id: int | None = None


Operation = Callable[[InstanceRef, dict[str, Any]], Mapping[str, Any] | None]

_registry: dict[str, Operation] = {}
# What an operation means for the contract of a diagram: its step kind, and the data it adds.
_kinds: dict[str, str] = {}
_outputs: dict[str, tuple[str, ...]] = {}


def register_operation(name: str, fn: Operation, *, replace: bool = False, kind: str | None = None,
                       outputs: tuple[str, ...] = ()) -> None:
    """Register ``fn`` under ``name``; registering a different callable twice is a programming error.

    ``kind`` is the step kind a service task calling it fulfils (e.g. ``deliver``); ``outputs`` the data
    names its result adds, which later gateway conditions may read."""
    if not name or not isinstance(name, str):
        raise ValueError("operation name must be a non-empty string")
    existing = _registry.get(name)
    if existing is not None and existing is not fn and not replace:
        raise ValueError(f"operation {name!r} is already registered")
    _registry[name] = fn
    if kind:
        _kinds[name] = kind
    _outputs[name] = tuple(outputs)


def unregister_operation(name: str) -> None:
    _registry.pop(name, None)
    _kinds.pop(name, None)
    _outputs.pop(name, None)


def operation_kind(name: str) -> str | None:
    return _kinds.get(name)


def operation_outputs(name: str) -> tuple[str, ...]:
    return _outputs.get(name, ())


def registered_operations() -> frozenset[str]:
    return frozenset(_registry)


def get_operation(name: str) -> Operation:
    try:
        return _registry[name]
    except KeyError:
        raise OperationError(f'Thao tác tự động "{name}" chưa được đăng ký trong hệ thống') from None
