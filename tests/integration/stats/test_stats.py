"""Statistics checked against counts the test computes on its own from what it created."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import select

from app.core import clock
from app.documents import services as documents
from app.documents.models import Attachment, Document
from app.extensions import db
from app.stats.periods import Period
from app.stats.queries import UsageThreshold, agency_stats, province_usage
from app.tenancy.models import Staff
from app.workflow import services as wf
from app.workflow.models import HumanTask
from tests.integration.documents.conftest import incoming_data

VN = clock.VN_TZ
CHANNELS = ("electronic", "electronic", "paper")


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=VN)


@pytest.fixture
def frozen():
    yield clock.freeze
    clock.freeze(None)


def _open_task(doc_id: int, kind: str) -> HumanTask:
    return db.session.scalar(select(HumanTask).where(HumanTask.subject_id == doc_id, HumanTask.step_kind == kind,
                                                     HumanTask.state == "open"))


def _expected_tasks(agency_id: int, period: Period, now: dt.datetime, key=lambda t: t.agency_id) -> dict:
    """The handling counts by plain Python over the task rows: the definitions, written out a second time."""
    out: dict = {}
    for t in db.session.scalars(select(HumanTask).where(HumanTask.agency_id == agency_id)):
        created = t.created_at if t.created_at.tzinfo else t.created_at.replace(tzinfo=dt.UTC)
        if not (period.start_at <= created < period.end_at) or t.state not in ("open", "done"):
            continue
        due = t.due_at.replace(tzinfo=dt.UTC) if t.due_at and not t.due_at.tzinfo else t.due_at
        done_at = t.completed_at.replace(tzinfo=dt.UTC) if t.completed_at and not t.completed_at.tzinfo \
            else t.completed_at
        c = out.setdefault(key(t), Counter())
        if t.state == "done":
            c["on_time" if due is None or done_at <= due else "late"] += 1
        else:
            c["pending"] += 1
            c["overdue"] += int(due is not None and due < now)
    return out


@pytest.fixture
def march(office, frozen, signing):
    """An agency's March 2026: 3 incoming (2 electronic, 1 with a valid signature), 2 outgoing drafts of which
    1 issued with a signed file, one assignment on time and one late, and one incoming in April."""
    o = office()
    frozen(at("2026-03-02"))  # a Monday
    clerk, leader = o.actors["clerk"], o.actors["leader"]
    inc = [documents.register_incoming(o.agency_id, actor=clerk, data=incoming_data(
        channel=ch, summary=f"Văn bản {i}", issue_date=dt.date(2026, 2, 27))) for i, ch in enumerate(CHANNELS)]
    db.session.get(Document, inc[0].id).signature_status = "valid"  # as verification on receipt records it
    drafts = [documents.create_outgoing_draft(o.agency_id, actor=o.actors["specialist"],
                                              data={"doc_type": "cong_van", "summary": f"Dự thảo {i}"})
              for i in range(2)]
    db.session.commit()
    assignment = {"lead_department_id": o.depts["nv"], "deadline": "2026-03-31", "direction": "Xử lý"}
    for doc, when in ((inc[0], at("2026-03-03", 10)), (inc[1], at("2026-03-09", 10))):  # due 04/03 17:00
        frozen(when)
        documents.record_assignment(doc.id, actor=leader, lead_department_id=o.depts["nv"])
        wf.complete_task(_open_task(doc.id, "assign").id, leader, assignment)
    frozen(at("2026-03-10", 15))
    issued = drafts[0]  # through the chain: reviewed, approved and signed (number, final PDF), sealed and issued
    wf.complete_task(_open_task(issued.id, "review").id, o.actors["head"], {"decision": "approve"})
    wf.complete_task(_open_task(issued.id, "sign").id, leader, {"decision": "approve"}, inputs={"pin": signing.pin})
    wf.complete_task(_open_task(issued.id, "issue").id, clerk, {})
    db.session.commit()
    frozen(at("2026-04-02"))
    documents.register_incoming(o.agency_id, actor=clerk, data=incoming_data(channel="electronic",
                                                                             issue_date=dt.date(2026, 4, 1)))
    db.session.commit()
    frozen(at("2026-04-20"))
    return o


def _expected_signed(agency_id: int, period: Period) -> int:
    """Issued outgoing documents of the period with a file of kind "signed": from the attachments themselves."""
    signed = set(db.session.scalars(select(Attachment.document_id).where(Attachment.kind == "signed")))
    issued = db.session.scalars(select(Document).where(Document.agency_id == agency_id,
                                                       Document.direction == "outgoing",
                                                       Document.issued_at.is_not(None)))
    return sum(1 for d in issued if period.start <= d.issue_date < period.end and d.id in signed)


def test_agency_totals_for_a_month(march):
    o = march
    period = Period("month", 2026, 3)
    stats = agency_stats(o.agency_id, period)
    a = stats.agency
    assert (a.incoming_registered, a.incoming_electronic, a.incoming_verified) == (3, 2, 1)
    assert (a.outgoing_issued, a.outgoing_signed) == (1, 1)
    assert a.outgoing_signed == _expected_signed(o.agency_id, period)
    assert (a.incoming_instances, a.outgoing_instances) == (3, 2)
    assert (a.electronic_rate, a.signed_rate) == (66.7, 100.0)
    expected = _expected_tasks(o.agency_id, period, clock.now())[o.agency_id]
    assert (a.tasks.done_on_time, a.tasks.done_late, a.tasks.pending, a.tasks.overdue) == (
        expected["on_time"], expected["late"], expected["pending"], expected["overdue"])
    # Written out: 3 registrations + 2 drafts + 1 assignment + signing + issue on time; 1 assignment and the
    # review (opened 02/03, due in 2 working days, done 10/03) late.
    assert (a.tasks.done_on_time, a.tasks.done_late) == (8, 2)
    assert a.tasks.pending == expected["pending"] > 0


def test_periods_split_the_same_data(march):
    o = march
    april = agency_stats(o.agency_id, Period("month", 2026, 4)).agency
    q1 = agency_stats(o.agency_id, Period("quarter", 2026, 1)).agency
    year = agency_stats(o.agency_id, Period("year", 2026)).agency
    assert (april.incoming_registered, q1.incoming_registered, year.incoming_registered) == (1, 3, 4)
    assert (april.incoming_instances, year.incoming_instances, year.outgoing_instances) == (1, 4, 2)
    assert year.tasks.total == q1.tasks.total + april.tasks.total


def test_departments_and_people(march):
    o = march
    stats = agency_stats(o.agency_id, Period("month", 2026, 3))
    by_dept = {d.code: d for d in stats.departments}
    leader = next(p for p in stats.people if p.key == o.accounts["leader"].user_id)
    assert (leader.tasks.done_on_time, leader.tasks.done_late) == (2, 1)  # assignments, and the signature
    assert leader.tasks.on_time_rate == 66.7
    clerk = next(p for p in stats.people if p.key == o.accounts["clerk"].user_id)
    assert (clerk.tasks.done_on_time, clerk.tasks.done_late) == (4, 0)  # 3 registrations and the issue
    # The two assigned documents lead in "nv"; the department's task counts add up to the agency's.
    assert by_dept["nv"].incoming_registered == 2
    assert sum(d.tasks.total for d in stats.departments) == stats.agency.tasks.total

    def responsible(t: HumanTask) -> int | None:
        return t.completed_by_id or t.claimed_by_id or t.candidate_user_id

    def department(t: HumanTask) -> int | None:
        user = responsible(t)
        own = db.session.scalar(select(Staff.department_id).where(Staff.user_id == user)) if user else None
        return own if own is not None else t.candidate_department_id

    def counts(c: Counter) -> tuple[int, int, int, int]:
        return c["on_time"], c["late"], c["pending"], c["overdue"]

    period, now = Period("month", 2026, 3), clock.now()
    by_department = _expected_tasks(o.agency_id, period, now, key=department)
    by_person = _expected_tasks(o.agency_id, period, now, key=responsible)
    for row in stats.departments:
        t = row.tasks
        assert (t.done_on_time, t.done_late, t.pending, t.overdue) == counts(by_department.get(row.key, Counter()))
    for row in stats.people:
        t = row.tasks
        assert (t.done_on_time, t.done_late, t.pending, t.overdue) == counts(by_person.get(row.key, Counter()))


def test_province_flags_agencies_below_the_minimum(march, office):
    o = march
    idle = office()
    result = province_usage(Period("month", 2026, 3), UsageThreshold(min_incoming_instances=1,
                                                                     min_outgoing_instances=1))
    rows = {r.key: r for r in result.rows}
    assert rows[o.agency_id].meets_minimum and rows[o.agency_id].incoming_registered == 3
    assert not rows[idle.agency_id].meets_minimum
    assert rows[idle.agency_id].shortfalls == ("quy trình văn bản đến: 0/1", "quy trình văn bản đi: 0/1")
    strict = province_usage(Period("month", 2026, 3), UsageThreshold(min_incoming_instances=4))
    assert not {r.key: r for r in strict.rows}[o.agency_id].meets_minimum
    assert result.total.incoming_registered == sum(r.incoming_registered for r in result.rows)
    assert len(result.rows) >= 35
