"""An office running the shipped incoming process: a clerk registers, leaders assign, heads and specialists work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from app.documents import services as ds
from app.extensions import db
from app.tenancy.models import Department
from app.workflow import queries as wfq
from app.workflow.info import ActorRef


@dataclass
class Office:
    agency: Any
    nv: int  # Phòng Nghiệp vụ
    vp: int  # Văn phòng
    clerk: Any
    leader: Any
    leader2: Any
    head: Any
    specialist: Any

    def actor(self, account: Any, role: str, department: int | None = None) -> ActorRef:
        return ActorRef(account.user_id, self.agency.id, frozenset({role}), department)

    def register(self, i: int, urgency: str = "thuong") -> Any:
        data = {"doc_type": "cong_van", "number_notation": f"{i}/UBND-VP", "issuer_name": "UBND tỉnh Vĩnh Phúc",
                "summary": f"Về việc chuyển đổi số, văn bản số {i}", "urgency": urgency,
                "confidentiality": "thuong", "channel": "paper", "issue_date": "2026-11-20"}
        doc = ds.register_incoming(self.agency.id, actor=self.actor(self.clerk, "clerk"), data=data)
        db.session.commit()
        return doc


def open_task(doc: Any) -> Any:
    instance = wfq.instances_for_subject("incoming", doc.id)[-1]
    return wfq.open_tasks(instance.id)[0]


@pytest.fixture
def office(make_agency, make_account) -> Office:
    agency = make_agency()
    rows = db.session.execute(select(Department.code, Department.id).where(Department.agency_id == agency.id))
    depts = dict(rows.all())
    return Office(agency, depts["nv"], depts["vp"],
                  clerk=make_account(agency.code, ["clerk"], department_code="vp", name="Trần Thị Văn Thư"),
                  leader=make_account(agency.code, ["leader"], name="Trần Văn An"),
                  leader2=make_account(agency.code, ["leader"], name="Hoàng Văn Phó"),
                  head=make_account(agency.code, ["head"], department_code="nv", name="Nguyễn Văn Bình"),
                  specialist=make_account(agency.code, ["specialist"], department_code="nv", name="Đỗ Thị Chuyên"))
