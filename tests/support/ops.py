"""Fixtures shared by the operations tests (notifications, calendar, exchange, jobs): an agency with people."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
ROLES = frozenset({"clerk", "leader", "head", "specialist", "legal", "agency_admin", "soict_admin"})
OPERATIONS = frozenset({"documents.start_reply", "documents.issue", "documents.deliver"})


@dataclass
class Person:
    account: Any
    actor: Any

    @property
    def user_id(self) -> int:
        return int(self.actor.user_id)


@dataclass
class Office:
    agency: Any
    dept_vp: int
    dept_nv: int
    people: dict[str, Person]

    def __getitem__(self, key: str) -> Person:
        return self.people[key]


PEOPLE: dict[str, tuple[str, str | None, str]] = {
    "clerk": ("clerk", "vp", "Trần Thị Văn Thư"),
    "leader": ("leader", None, "Nguyễn Văn Giám Đốc"),
    "head_nv": ("head", "nv", "Lê Văn Trưởng Phòng"),
    "head_vp": ("head", "vp", "Phạm Thị Chánh Văn Phòng"),
    "spec_a": ("specialist", "nv", "Hoàng Văn Ân"),
    "spec_b": ("specialist", "nv", "Đỗ Thị Bình"),
}


@pytest.fixture
def office(make_agency: Callable[..., Any], make_account: Callable[..., Any]) -> Office:
    from app.tenancy.queries import departments_of
    from app.workflow.info import ActorRef

    agency = make_agency()
    depts = {d.code: d.id for d in departments_of(agency.id)}
    people = {}
    for key, (role, dept, name) in PEOPLE.items():
        account = make_account(agency.code, [role], department_code=dept, name=name)
        people[key] = Person(account, ActorRef(user_id=account.user_id, agency_id=agency.id, roles=frozenset({role}),
                                               department_id=depts[dept] if dept else None))
    return Office(agency, depts["vp"], depts["nv"], people)


def publish_template(agency_id: int, key: str) -> Any:
    from app.workflow.services import publish_version

    xml = (PROCESSES / "templates" / f"{key}.bpmn").read_text(encoding="utf-8")
    return publish_version(agency_id, key, xml, by_user_id=None, note="", known_roles=ROLES, known_forms=None,
                           known_operations=OPERATIONS)
