"""Usage statistics (QĐ 52/2014 Art 12–13) computed from the documents, instances and tasks themselves.

What counts (the same definitions on every page, export and test):
- incoming registered: incoming documents with a số đến whose arrival date falls in the period;
  electronic = received through the electronic channel; verified = valid digital signature on receipt.
- outgoing issued: outgoing documents issued (issued_at set) whose document date falls in the period;
  signed = carrying a digitally signed file (attachment kind "signed"; Document.signed_at marks the first).
- process use: instances of the mandatory "incoming" and "outgoing" processes started in the period.
- handling: human tasks created in the period. Done on time = completed no later than due_at (or with no
  deadline); late = completed after it; pending = still open, of which overdue = past due_at now.
  A task belongs to whoever completed it, else who claimed it, else the named candidate; a department is
  that person's department, else the task's candidate department.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import and_, func, or_, select

from app.core import clock
from app.documents.models import Document
from app.extensions import db
from app.tenancy.models import Agency, Department, Staff
from app.workflow.models import HumanTask, ProcessInstance

from .periods import Period

INCOMING_PROCESS = "incoming"
OUTGOING_PROCESS = "outgoing"


@dataclass(frozen=True)
class TaskCountsInfo:
    done_on_time: int = 0
    done_late: int = 0
    pending: int = 0
    overdue: int = 0

    @property
    def total(self) -> int:
        return self.done_on_time + self.done_late + self.pending

    @property
    def on_time_rate(self) -> float | None:
        done = self.done_on_time + self.done_late
        return round(100 * self.done_on_time / done, 1) if done else None

    def __add__(self, other: TaskCountsInfo) -> TaskCountsInfo:
        return TaskCountsInfo(self.done_on_time + other.done_on_time, self.done_late + other.done_late,
                              self.pending + other.pending, self.overdue + other.overdue)


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class UsageRowInfo:
    key: int | None
    name: str
    code: str | None = None
    incoming_registered: int = 0
    incoming_electronic: int = 0
    incoming_verified: int = 0
    outgoing_issued: int = 0
    outgoing_signed: int = 0
    incoming_instances: int = 0
    outgoing_instances: int = 0
    tasks: TaskCountsInfo = field(default_factory=TaskCountsInfo)
    shortfalls: tuple[str, ...] = ()

    @property
    def electronic_rate(self) -> float | None:
        return _rate(self.incoming_electronic, self.incoming_registered)

    @property
    def signed_rate(self) -> float | None:
        return _rate(self.outgoing_signed, self.outgoing_issued)

    @property
    def meets_minimum(self) -> bool:
        return not self.shortfalls


@dataclass(frozen=True)
class UsageThreshold:
    """The minimum use of each mandatory process in a period below which an agency is "chưa đạt"."""

    min_incoming_instances: int = 1
    min_outgoing_instances: int = 1

    def shortfalls(self, row: UsageRowInfo) -> tuple[str, ...]:
        out = []
        if row.incoming_instances < self.min_incoming_instances:
            out.append(f"quy trình văn bản đến: {row.incoming_instances}/{self.min_incoming_instances}")
        if row.outgoing_instances < self.min_outgoing_instances:
            out.append(f"quy trình văn bản đi: {row.outgoing_instances}/{self.min_outgoing_instances}")
        return tuple(out)


@dataclass(frozen=True)
class ProvinceUsageResult:
    period: Period
    threshold: UsageThreshold
    rows: tuple[UsageRowInfo, ...]
    total: UsageRowInfo
    elapsed_ms: float

    @property
    def below_minimum(self) -> tuple[UsageRowInfo, ...]:
        return tuple(r for r in self.rows if not r.meets_minimum)


@dataclass(frozen=True)
class AgencyStatsResult:
    period: Period
    agency: UsageRowInfo
    departments: tuple[UsageRowInfo, ...]
    people: tuple[UsageRowInfo, ...]


# -- the counting queries, each grouped by the keys a page shows -----------------------------------------
# One key gives counts by that key; several give counts by the tuple of them, which _regroup folds.


def _by(keys: tuple[Any, ...], row: Any) -> Any:
    return row[0] if len(keys) == 1 else tuple(row[:len(keys)])


def _incoming(period: Period, keys: tuple[Any, ...], *where: Any) -> dict[Any, tuple[int, int, int]]:
    rows = db.session.execute(
        select(*keys, func.count(), func.count().filter(Document.channel == "electronic"),
               func.count().filter(Document.signature_status == "valid"))
        .where(Document.direction == "incoming", Document.arrival_date >= period.start,
               Document.arrival_date < period.end, Document.number.is_not(None), *where)
        .group_by(*keys)
    ).all()
    n = len(keys)
    return {_by(keys, r): (r[n], r[n + 1], r[n + 2]) for r in rows}


def _outgoing(period: Period, keys: tuple[Any, ...], *where: Any) -> dict[Any, tuple[int, int]]:
    # signed_at is kept on the document when a signed file is attached (app.documents.models), so "signed"
    # is a column of the same index-only scan, not a join over every attachment of the province.
    rows = db.session.execute(
        select(*keys, func.count(), func.count(Document.signed_at))
        .where(Document.direction == "outgoing", Document.issue_date >= period.start,
               Document.issue_date < period.end, Document.issued_at.is_not(None), *where)
        .group_by(*keys)
    ).all()
    n = len(keys)
    return {_by(keys, r): (r[n], r[n + 1]) for r in rows}


def _instances(period: Period, *where: Any) -> dict[Any, tuple[int, int]]:
    rows = db.session.execute(
        select(ProcessInstance.agency_id, func.count().filter(ProcessInstance.process_key == INCOMING_PROCESS),
               func.count().filter(ProcessInstance.process_key == OUTGOING_PROCESS))
        .where(ProcessInstance.started_at >= period.start_at, ProcessInstance.started_at < period.end_at,
               ProcessInstance.process_key.in_((INCOMING_PROCESS, OUTGOING_PROCESS)), *where)
        .group_by(ProcessInstance.agency_id)
    ).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def _task_columns(now: dt.datetime) -> list[Any]:
    done = HumanTask.state == "done"
    on_time = or_(HumanTask.due_at.is_(None), HumanTask.completed_at <= HumanTask.due_at)
    is_open = HumanTask.state == "open"
    late = HumanTask.completed_at > HumanTask.due_at
    return [func.count().filter(and_(done, on_time)), func.count().filter(and_(done, late)),
            func.count().filter(is_open), func.count().filter(and_(is_open, HumanTask.due_at < now))]


def _tasks(period: Period, keys: tuple[Any, ...], *where: Any) -> dict[Any, TaskCountsInfo]:
    rows = db.session.execute(
        select(*keys, *_task_columns(clock.now()))
        .where(HumanTask.created_at >= period.start_at, HumanTask.created_at < period.end_at,
               HumanTask.state.in_(("open", "done")), *where)
        .group_by(*keys)
    ).all()
    n = len(keys)
    return {_by(keys, r): TaskCountsInfo(r[n], r[n + 1], r[n + 2], r[n + 3]) for r in rows}


def _responsible_user() -> Any:
    return func.coalesce(HumanTask.completed_by_id, HumanTask.claimed_by_id, HumanTask.candidate_user_id)


def _add(a: Any, b: Any) -> Any:
    return a + b if isinstance(a, TaskCountsInfo) else tuple(x + y for x, y in zip(a, b, strict=True))


def _regroup(counts: dict[Any, Any], key: Callable[[Any], Any]) -> dict[Any, Any]:
    """Counts by a coarser key (a department, a person, the whole agency): sums of the finer groups."""
    out: dict[Any, Any] = {}
    for k, v in counts.items():
        new = key(k)
        out[new] = _add(out[new], v) if new in out else v
    return out


def _row(key: Any, name: str, code: str | None, incoming: dict[Any, tuple[int, int, int]],
         outgoing: dict[Any, tuple[int, int]], instances: dict[Any, tuple[int, int]],
         tasks: dict[Any, TaskCountsInfo]) -> UsageRowInfo:
    inc = incoming.get(key, (0, 0, 0))
    out = outgoing.get(key, (0, 0))
    ins = instances.get(key, (0, 0))
    return UsageRowInfo(key=key, name=name, code=code, incoming_registered=inc[0], incoming_electronic=inc[1],
                        incoming_verified=inc[2], outgoing_issued=out[0], outgoing_signed=out[1],
                        incoming_instances=ins[0], outgoing_instances=ins[1], tasks=tasks.get(key, TaskCountsInfo()))


def _sum(rows: Iterable[UsageRowInfo], name: str) -> UsageRowInfo:
    total = UsageRowInfo(key=None, name=name)
    for r in rows:
        total = replace(
            total, incoming_registered=total.incoming_registered + r.incoming_registered,
            incoming_electronic=total.incoming_electronic + r.incoming_electronic,
            incoming_verified=total.incoming_verified + r.incoming_verified,
            outgoing_issued=total.outgoing_issued + r.outgoing_issued,
            outgoing_signed=total.outgoing_signed + r.outgoing_signed,
            incoming_instances=total.incoming_instances + r.incoming_instances,
            outgoing_instances=total.outgoing_instances + r.outgoing_instances, tasks=total.tasks + r.tasks)
    return total


# -- public questions -----------------------------------------------------------------------------------


def province_usage(period: Period, threshold: UsageThreshold | None = None) -> ProvinceUsageResult:
    """Every active agency side by side for SoICT, flagged when below the minimum use (Art 12–13)."""
    started = time.perf_counter()
    threshold = threshold or UsageThreshold()
    agencies = db.session.execute(
        select(Agency.id, Agency.name, Agency.code)
        .where(Agency.active.is_(True), Agency.is_central.is_(False)).order_by(Agency.id)
    ).all()
    incoming = _incoming(period, (Document.agency_id,))
    outgoing = _outgoing(period, (Document.agency_id,))
    instances = _instances(period)
    tasks = _tasks(period, (HumanTask.agency_id,))
    rows = []
    for a in agencies:
        row = _row(a.id, a.name, a.code, incoming, outgoing, instances, tasks)
        rows.append(replace(row, shortfalls=threshold.shortfalls(row)))
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    return ProvinceUsageResult(period, threshold, tuple(rows), _sum(rows, "Toàn tỉnh"), elapsed)


def agency_stats(agency_id: int, period: Period) -> AgencyStatsResult:
    """One agency for its leaders: the agency total, each department and each person.

    Each figure is read once, grouped by the finest keys the page shows; the department, person and agency
    rows are sums of those groups, so they add up by construction.
    """
    agency = db.session.get(Agency, agency_id)
    name = agency.name if agency else ""
    dep_in = _incoming(period, (Document.lead_department_id,), Document.agency_id == agency_id)
    out = _outgoing(period, (Document.drafting_department_id, Document.signer_user_id),
                    Document.agency_id == agency_id)
    instances = _instances(period, ProcessInstance.agency_id == agency_id)
    tasks = _tasks(period, (_responsible_user(), HumanTask.candidate_department_id), HumanTask.agency_id == agency_id)

    def whole(_key: Any) -> int:
        return agency_id

    total = _row(agency_id, name, agency.code if agency else None, _regroup(dep_in, whole), _regroup(out, whole),
                 instances, _regroup(tasks, whole))

    # A task's department is its person's department, else the task's candidate department.
    people_with_tasks = sorted({user for user, _ in tasks if user is not None})
    department_of = dict(db.session.execute(
        select(Staff.user_id, Staff.department_id).where(Staff.user_id.in_(people_with_tasks))).all()
    ) if people_with_tasks else {}

    def task_department(key: tuple[int | None, int | None]) -> int | None:
        own = department_of.get(key[0])
        return own if own is not None else key[1]

    dep_out = _regroup(out, lambda k: k[0])
    dep_tasks = _regroup(tasks, task_department)
    departments = []
    for d in db.session.scalars(select(Department).where(Department.agency_id == agency_id)
                                .order_by(Department.sort_order, Department.id)):
        row = _row(d.id, d.name, d.code, dep_in, dep_out, {}, dep_tasks)
        if d.active or row.tasks.total or row.incoming_registered or row.outgoing_issued:
            departments.append(row)
    unassigned = _row(None, "Chưa giao phòng ban", None, dep_in, dep_out, {}, dep_tasks)
    if unassigned.incoming_registered or unassigned.outgoing_issued or unassigned.tasks.total:
        departments.append(unassigned)

    person_tasks = _regroup(tasks, lambda k: k[0])
    signed_by = _regroup(out, lambda k: k[1])
    people = []
    for s in db.session.scalars(select(Staff).where(Staff.agency_id == agency_id).order_by(Staff.full_name)):
        counts = person_tasks.get(s.user_id, TaskCountsInfo())
        issued = signed_by.get(s.user_id, (0, 0))[0]
        if s.active or counts.total or issued:
            people.append(UsageRowInfo(key=s.user_id, name=s.full_name, code=s.email, outgoing_issued=issued,
                                       tasks=counts))
    return AgencyStatsResult(period, total, tuple(departments), tuple(people))
