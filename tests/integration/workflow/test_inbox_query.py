"""The inbox page: branches per candidate kind merged in due order, paging across them, buckets, counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.core import clock
from app.workflow import queries, services
from app.workflow.info import ActorRef


def _only_open(instance_id: int) -> Any:
    (task,) = queries.open_tasks(instance_id)
    return task


def test_pages_merge_every_branch_in_due_order(org: Any, publish: Any) -> None:
    publish(org.agency_id, "incoming")
    a = org.actors
    started = [services.start_instance(org.agency_id, "incoming", subject_type="test", subject_id=i, data={},
                                       actor=a["clerk"]) for i in range(4)]
    first = started[0].id
    services.complete_task(_only_open(first).id, a["clerk"], {})
    services.complete_task(_only_open(first).id, a["leader"], {"lead_department_id": org.dept_a,
                                                                "deadline": "2030-01-10"})
    head_task = _only_open(first)
    assert head_task.candidate_department_id == org.dept_a

    clerk_todo = queries.inbox(a["clerk"], "todo")
    assert len(clerk_todo) == 3 and [t.id for t in clerk_todo] == sorted(t.id for t in clerk_todo)
    assert queries.count_inbox(a["clerk"], "todo") == 3
    assert [t.id for t in queries.inbox(a["clerk"], "todo", limit=2, offset=2)] == [clerk_todo[2].id]
    assert [t.id for t in queries.inbox(a["head_a"], "todo")] == [head_task.id]
    assert queries.inbox(a["head_b"], "todo") == [] and queries.count_inbox(a["head_b"], "todo") == 0

    both = ActorRef(user_id=a["head_a"].user_id, agency_id=org.agency_id, roles=frozenset({"clerk", "head"}),
                    department_id=org.dept_a)
    merged = queries.inbox(both, "todo")
    assert {t.id for t in merged} == {t.id for t in clerk_todo} | {head_task.id}
    dues = [t.due_at for t in merged]
    assert dues == sorted(dues)
    assert [t.id for t in queries.inbox(both, "todo", limit=1, offset=3)] == [merged[3].id]

    later = clock.now() + dt.timedelta(days=60)
    assert {t.id for t in queries.inbox(both, "overdue", now=later)} == {t.id for t in merged}
    assert queries.inbox(both, "todo", now=later) == []
    assert queries.count_inbox(both, "overdue", now=later) == 4

    services.claim_task(clerk_todo[0].id, a["clerk"])
    assert [t.id for t in queries.inbox(a["clerk"], "in_progress")] == [clerk_todo[0].id]
    assert clerk_todo[0].id not in {t.id for t in queries.inbox(both, "todo")}
    assert [t.bpmn_id for t in queries.inbox(a["leader"], "done")] == ["assign"]
