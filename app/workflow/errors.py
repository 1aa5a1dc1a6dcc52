"""Errors of the workflow adapter; all are DomainErrors carrying Vietnamese messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.core.errors import ConflictError, DomainError
from app.workflow.expressions import ExpressionError


@dataclass(frozen=True)
class ProblemInfo:
    """One thing wrong with a diagram, named so an agency admin can find it in the modeler."""

    element_id: str | None
    element_name: str | None
    message_vi: str
    line: int | None = None

    def __str__(self) -> str:
        return self.message_vi


class DiagramInvalidError(DomainError):
    """A diagram cannot be published or run; ``problems`` lists every problem found, not just the first."""

    code = "diagram_invalid"
    http_status = 422

    def __init__(self, problems: Sequence[ProblemInfo], *, message: str | None = None):
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(
            message or f"Sơ đồ quy trình có {count} lỗi, chưa thể sử dụng",
            details=[p.message_vi for p in self.problems],
        )


class WorkflowRuntimeError(DomainError):
    """The engine could not move an instance forward (a condition failed, no outgoing flow matched…)."""

    code = "workflow_runtime"

    def __init__(self, message: str, *, element_id: str | None = None, element_name: str | None = None,
                 log: str | None = None):
        super().__init__(message, log=log)
        self.element_id = element_id
        self.element_name = element_name


class StepNotWaitingError(ConflictError):
    """The step was completed by someone else between reading the page and posting it (seen on SQLite,
    which has no row lock: the loser reads the open task, then the winner's committed engine state)."""

    code = "step_not_waiting"
    http_status = 422


class StepTakenError(ConflictError):
    """Someone else completed this step (or the route moved past it) since the page was read."""

    code = "step_taken"


class OperationError(DomainError):
    """A service task's operation is unknown or failed."""

    code = "operation_error"
    http_status = 422
    task: Any = None  # the engine task it failed on, when known (names the element of an incident)


__all__ = ["DiagramInvalidError", "ExpressionError", "OperationError", "ProblemInfo", "WorkflowRuntimeError"]
