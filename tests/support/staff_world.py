"""A small agency with one person per role and a little work in flight, for the browser tests (crawl, axe, 390 px).

An incoming document waits for the leader's assignment, another has been assigned by the leader and the head and
waits for the specialist, and an outgoing draft waits for the head's review."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.core import clock
from app.extensions import db
from app.tenancy import roles as R
from app.tenancy.queries import departments_of
from app.workflow import queries as wfq
from app.workflow import services as wf
from app.workflow.info import ActorRef

ROLE_DEPARTMENTS = {R.CLERK: "vp", R.LEADER: None, R.HEAD: "nv", R.SPECIALIST: "nv", R.AGENCY_ADMIN: "vp"}
NAMES = {R.CLERK: "Lê Thị Văn Thư", R.LEADER: "Phạm Văn Lãnh Đạo", R.HEAD: "Vũ Thị Trưởng Phòng",
         R.SPECIALIST: "Đỗ Văn Chuyên Viên", R.AGENCY_ADMIN: "Trần Quản Trị"}
_NUMBERS = itertools.count(secrets.randbelow(9000) + 1000)


@dataclass(frozen=True)
class World:
    agency_id: int
    code: str
    host: str
    accounts: dict[str, Any]  # role -> tests.conftest.Account
    actors: dict[str, ActorRef]
    waiting_assign: int  # document ids
    waiting_process: int
    outgoing_draft: int
    tasks: dict[str, int]  # step kind -> open task id


def _task(instance_id: int, kind: str) -> Any:
    (task,) = [t for t in wfq.open_tasks(instance_id) if t.step_kind == kind]
    return task


def _incoming(issuer: str, summary: str, **extra: Any) -> dict[str, Any]:
    return {"doc_type": "cong_van", "number_notation": f"{next(_NUMBERS)}/UBND-VX", "issuer_name": issuer,
            "issue_date": clock.today() - dt.timedelta(days=2), "summary": summary, "signer_name": "Nguyễn Văn Bình",
            "signer_position": "Phó Chủ tịch", "pages": 2, "urgency": "thuong", "channel": "paper", **extra}


def seed_world(make_agency: Callable[..., Any], make_account: Callable[..., Any], *, name: str,
               abbreviation: str) -> World:
    from app.documents import services as ds

    agency = make_agency(name=name, abbreviation=abbreviation)
    depts = {d.code: d.id for d in departments_of(agency.id)}
    accounts, actors = {}, {}
    for role, dept in ROLE_DEPARTMENTS.items():
        account = make_account(agency.code, [role], department_code=dept, name=NAMES[role])
        accounts[role] = account
        actors[role] = ActorRef(user_id=account.user_id, agency_id=agency.id, roles=frozenset({role}),
                                department_id=depts[dept] if dept else None)
    db.session.commit()
    clerk, leader, head = actors[R.CLERK], actors[R.LEADER], actors[R.HEAD]

    first = ds.register_incoming(agency.id, actor=clerk, data=_incoming(
        "Ủy ban nhân dân tỉnh Vĩnh Phúc", "Về việc triển khai Kế hoạch chuyển đổi số năm 2027", urgency="khan"))
    second = ds.register_incoming(agency.id, actor=clerk, data=_incoming(
        "Sở Tài chính", "Về việc thẩm định dự toán kinh phí ứng dụng công nghệ thông tin"))
    db.session.commit()
    deadline = clock.today() + dt.timedelta(days=10)
    wf.complete_task(_task(second.instance_id, "assign").id, leader, {
        "lead_department_id": depts["nv"], "deadline": deadline.isoformat(),
        "direction": "Giao Phòng Nghiệp vụ chủ trì, báo cáo kết quả trước hạn."})
    wf.complete_task(_task(second.instance_id, "assign_person").id, head, {
        "specialist_id": accounts[R.SPECIALIST].user_id, "deadline": (deadline - dt.timedelta(days=2)).isoformat(),
        "note": "Đồng chí nghiên cứu, tham mưu văn bản trả lời."})
    draft = ds.create_outgoing_draft(agency.id, actor=actors[R.SPECIALIST], data={
        "doc_type": "cong_van", "summary": "Về việc báo cáo tình hình ứng dụng công nghệ thông tin",
        "body": "Sở báo cáo tình hình ứng dụng công nghệ thông tin năm 2026 như sau.", "recipients": "- Như trên;",
        "signer_id": accounts[R.LEADER].user_id, "signer_position": "Giám đốc"})
    db.session.commit()
    tasks = {"assign": _task(first.instance_id, "assign").id, "process": _task(second.instance_id, "process").id,
             "review": _task(draft.instance_id, "review").id}
    return World(agency.id, agency.code, accounts[R.CLERK].host, accounts, actors, first.id, second.id, draft.id,
                 tasks)
