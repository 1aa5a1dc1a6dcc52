"""The per-step dump writes only changed task rows: the rows it keeps must always equal a full dump.

Every shipped template is driven through its loops (send back, return, rework, extension, multi-instance)
and after each step the stored rows, patched with ``dump_changes``, are compared with ``dump()`` of the
same workflow and with a workflow restored from those rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from app.workflow.engine import WorkflowRun, restore_run, start_run
from app.workflow.loader import load_diagram
from app.workflow.operations import InstanceRef, register_operation, unregister_operation
from tests.unit.workflow.conftest import OPERATIONS, read

REF = InstanceRef(instance_id=1, agency_id=1, process_key="p", subject_type="s", subject_id=1)

# Per template: the answers each step gives, in turn (the last answer repeats), so every loop is taken once.
ROUTES: dict[str, dict[str, list[dict[str, Any]]]] = {
    "templates/incoming.bpmn": {
        "register": [{"summary": "Công văn"}],
        "assign": [{"lead_department_id": 3, "deadline": "2030-01-10"}],
        "assign_specialist": [{"specialist_id": 7}],
        "process": [{"result": "Xong", "request_reply": True}, {"result": "Bổ sung", "request_reply": False}],
        "confirm": [{"decision": "send_back"}, {"decision": "complete"}],
    },
    "isotp/incoming.bpmn": {
        "register": [{"summary": "Công văn"}],
        "assign": [{"lead_department_id": 3}],
        "assign_specialist": [{"specialist_id": 7}],
        "process": [{"result": "Xong", "request_reply": False}],
        "legal_review": [{"decision": "return"}, {"decision": "approve"}],
        "confirm": [{"decision": "complete"}],
    },
    "templates/outgoing.bpmn": {
        "draft": [{"summary": "Dự thảo", "signer_id": 9}],
        "review": [{"decision": "return"}, {"decision": "approve"}],
        "approve": [{"decision": "return"}, {"decision": "approve"}],
        "issue": [{"copies": 2}],
    },
    "templates/task_assignment.bpmn": {
        "assign": [{"title": "Việc", "lead_user_id": 7, "deadline": "2030-01-10"}],
        "report": [{"percent": 40, "request_extension": False}, {"percent": 60, "request_extension": True},
                   {"percent": 100, "request_extension": False}],
        "extension_decision": [{"decision": "approve"}],
        "evaluate": [{"rating": "fail"}, {"rating": "good"}],
    },
    "templates/opinion_request.bpmn": {
        "request": [{"title": "Xin ý kiến", "reviewer_ids": [11, 12, 13], "deadline": "2030-01-10"}],
        "give_opinion": [{"answer": "agree"}, {"answer": "disagree", "comment": "Chưa đồng ý"}],
        "consolidate": [{"summary": "Tổng hợp"}],
    },
}


@pytest.fixture(autouse=True)
def _operations() -> Iterator[None]:
    for name in OPERATIONS:
        register_operation(name, lambda ref, data: {"done": True}, replace=True)
    yield
    for name in OPERATIONS:
        unregister_operation(name)


def _apply(rows: dict[str, str], run: WorkflowRun) -> str:
    changes = run.dump_changes()
    assert not set(changes.added) & set(rows), "a task reported as new was already stored"
    assert set(changes.changed) <= set(rows), "a task reported as changed was never stored"
    rows.update(changes.added)
    rows.update(changes.changed)
    for uid in changes.removed:
        del rows[uid]
    return changes.meta


def _parsed(rows: dict[str, str]) -> dict[str, Any]:
    return {uid: json.loads(text) for uid, text in rows.items()}


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_incremental_rows_always_equal_a_full_dump(path: str) -> None:
    answers = ROUTES[path]
    used: dict[str, int] = {}
    run = start_run(load_diagram(read(path)), {"initiator_id": 1, "initiator_department_id": 3}, REF)
    rows: dict[str, str] = {}
    meta = _apply(rows, run)
    steps = 0
    while not run.completed:
        full = run.dump()
        assert rows == full.tasks and list(rows) == list(full.tasks)  # same rows, same (creation) order
        assert json.loads(meta) == json.loads(full.meta)
        restored = restore_run(run.diagram, type(full)(meta=meta, tasks=dict(rows)), REF).dump()
        # Same content; key order inside a task's data may differ after a restore, which is harmless.
        assert _parsed(restored.tasks) == _parsed(full.tasks) and json.loads(restored.meta) == json.loads(full.meta)
        ready = run.ready_user_tasks()
        assert ready, f"{path}: stuck after {steps} steps"
        task = ready[0]
        turn = used.get(task.bpmn_id, 0)
        used[task.bpmn_id] = turn + 1
        options = answers[task.bpmn_id]
        run.complete_task(task.task_uuid, options[min(turn, len(options) - 1)])
        meta = _apply(rows, run)
        steps += 1
        assert steps < 60
    assert rows == run.dump().tasks
    assert any(count > 1 for count in used.values()), "the route never looped"


def test_a_step_rewrites_few_rows_however_long_the_instance() -> None:
    run = start_run(load_diagram(read("templates/incoming.bpmn")), {"initiator_id": 1}, REF)
    rows: dict[str, str] = {}
    _apply(rows, run)
    written = []
    for _ in range(12):  # send back eleven times: the tree keeps growing
        for bpmn_id, data in (("process", {"result": "x", "request_reply": False}),
                              ("confirm", {"decision": "send_back"})):
            if not any(t.bpmn_id == bpmn_id for t in run.ready_user_tasks()):
                for first, first_data in (("register", {}), ("assign", {"lead_department_id": 3}),
                                          ("assign_specialist", {"specialist_id": 7})):
                    (task,) = run.ready_user_tasks()
                    assert task.bpmn_id == first
                    run.complete_task(task.task_uuid, first_data)
                    _apply(rows, run)
            (task,) = run.ready_user_tasks()
            run.complete_task(task.task_uuid, data)
            changes = run.dump_changes()
            written.append(len(changes.added) + len(changes.changed))
            rows.update(changes.added)
            rows.update(changes.changed)
    assert len(rows) > 40
    assert max(written[-4:]) <= max(written[:4]) + 2
