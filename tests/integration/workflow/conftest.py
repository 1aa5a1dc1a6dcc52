"""Workflow fixtures on top of the shared migrated database (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PROCESSES = Path(__file__).resolve().parents[3] / "processes"
OPERATIONS = frozenset({"documents.start_reply", "documents.issue", "documents.deliver"})
ROLES = frozenset({"clerk", "leader", "head", "specialist", "legal", "agency_admin", "soict_admin"})


@dataclass
class OperationLog:
    calls: list[tuple[str, Any, dict[str, Any]]]


@pytest.fixture
def operations() -> Iterator[OperationLog]:
    """Register the documents.* operations the templates call, recording each call."""
    from app.workflow.operations import register_operation, unregister_operation

    log = OperationLog(calls=[])

    def recorder(name: str, result: dict[str, Any] | None) -> Callable[..., Any]:
        def op(ref: Any, data: dict[str, Any]) -> dict[str, Any] | None:
            log.calls.append((name, ref, dict(data)))
            return result

        return op

    names = {"documents.start_reply": {"reply_started": True}, "documents.issue": {"issued_number": 17},
             "documents.deliver": None}
    # The app registered the real ones at start-up; they are put back afterwards (below), or later tests
    # in this process would find "chưa được đăng ký" (the web tests failed when run after these alone).
    for name, result in names.items():
        register_operation(name, recorder(name, result), replace=True)
    yield log
    for name in names:
        unregister_operation(name)
    from app.bootstrap import register_domain_steps

    register_domain_steps()  # the real operations, with the step kinds and outputs they declare


@dataclass
class Org:
    agency_id: int
    agency_code: str
    dept_a: int
    dept_b: int
    actors: dict[str, Any]


@pytest.fixture
def org(make_agency: Callable[..., Any], make_account: Callable[..., Any]) -> Org:
    """An agency with one clerk, leader, legal officer, two heads and two specialists in two departments."""
    from app.tenancy.queries import departments_of
    from app.workflow.info import ActorRef

    agency = make_agency()
    depts = {d.code: d.id for d in departments_of(agency.id)}
    spec: dict[str, tuple[str, str | None]] = {
        "clerk": ("clerk", "vp"), "leader": ("leader", None), "legal": ("legal", "vp"),
        "head_a": ("head", "nv"), "head_b": ("head", "vp"),
        "spec_a": ("specialist", "nv"), "spec_b": ("specialist", "nv"),
    }
    actors = {}
    for key, (role, dept) in spec.items():
        account = make_account(agency.code, [role], department_code=dept)
        actors[key] = ActorRef(user_id=account.user_id, agency_id=agency.id, roles=frozenset({role}),
                               department_id=depts[dept] if dept else None)
    return Org(agency.id, agency.code, depts["nv"], depts["vp"], actors)


def template(name: str) -> str:
    return (PROCESSES / "templates" / f"{name}.bpmn").read_text(encoding="utf-8")


@pytest.fixture
def publish(app: Any) -> Callable[..., Any]:
    from app.workflow.services import publish_version

    def factory(agency_id: int | None, key: str, xml: str | None = None, note: str = "") -> Any:
        return publish_version(agency_id, key, xml or template(key), by_user_id=None, note=note,
                               known_roles=ROLES, known_forms=None, known_operations=OPERATIONS)

    return factory
