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


def register_operation(name: str, fn: Operation, *, replace: bool = False) -> None:
    """Register ``fn`` under ``name``; registering a different callable twice is a programming error."""
    if not name or not isinstance(name, str):
        raise ValueError("operation name must be a non-empty string")
    existing = _registry.get(name)
    if existing is not None and existing is not fn and not replace:
        raise ValueError(f"operation {name!r} is already registered")
    _registry[name] = fn


def unregister_operation(name: str) -> None:
    _registry.pop(name, None)


def registered_operations() -> frozenset[str]:
    return frozenset(_registry)


def get_operation(name: str) -> Operation:
    try:
        return _registry[name]
    except KeyError:
        raise OperationError(f'Thao tác tự động "{name}" chưa được đăng ký trong hệ thống') from None
