"""The engine facade without a database: routes, loops, branches, multi-instance, snapshots, safety."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from app.workflow.engine import WorkflowRun, restore_run, start_run
from app.workflow.errors import WorkflowRuntimeError
from app.workflow.loader import load_diagram
from app.workflow.operations import InstanceRef, register_operation, unregister_operation
from tests.unit.workflow.conftest import read

REF = InstanceRef(instance_id=1, agency_id=1, process_key="incoming", subject_type="incoming", subject_id=5)


@pytest.fixture
def calls() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    log: list[tuple[str, dict[str, Any]]] = []
    ops = {"documents.start_reply": {"reply_id": 77}, "documents.issue": {"number": 12}, "documents.deliver": None}
    for name, result in ops.items():
        register_operation(name, lambda ref, data, n=name, r=result: log.append((n, data)) or r, replace=True)
    yield log
    for name in ops:
        unregister_operation(name)


def step(run: WorkflowRun, bpmn_id: str, data: dict[str, Any], *, roundtrip: bool = True) -> WorkflowRun:
    """Complete the single READY task (checking its id), through a dump/restore like a real request."""
    if roundtrip:
        run = restore_run(run.diagram, run.dump(), REF)
    ready = run.ready_user_tasks()
    assert [t.bpmn_id for t in ready] == [bpmn_id]
    run.complete_task(ready[0].task_uuid, data)
    return run


def incoming_until_confirm(request_reply: bool) -> WorkflowRun:
    run = start_run(load_diagram(read("templates/incoming.bpmn")), {"initiator_id": 1}, REF)
    run = step(run, "register", {"summary": "CV"})
    run = step(run, "assign", {"lead_department_id": 3, "deadline": "2030-01-05"})
    run = step(run, "assign_specialist", {"specialist_id": 42})
    return step(run, "process", {"result": "ok", "request_reply": request_reply, "reply_summary": "Trả lời"})


def test_incoming_without_reply(calls: list[Any]) -> None:
    run = incoming_until_confirm(False)
    run = step(run, "confirm", {"decision": "complete"})
    assert run.completed and calls == []
    assert run.data["specialist_id"] == 42


def test_incoming_reply_branch_calls_operation(calls: list[Any]) -> None:
    run = incoming_until_confirm(True)
    assert [c[0] for c in calls] == ["documents.start_reply"]
    assert calls[0][1]["reply_summary"] == "Trả lời"
    assert run.ready_user_tasks()[0].bpmn_id == "confirm"
    assert run.task_data(run.ready_user_tasks()[0].task_uuid)["reply_id"] == 77


def test_incoming_send_back_loops_to_specialist(calls: list[Any]) -> None:
    run = incoming_until_confirm(False)
    run = step(run, "confirm", {"decision": "send_back"})
    ready = run.ready_user_tasks()
    assert [t.bpmn_id for t in ready] == ["process"] and ready[0].candidate_user_id == 42
    run = step(run, "process", {"result": "bổ sung", "request_reply": False})
    run = step(run, "confirm", {"decision": "complete"})
    assert run.completed


def test_assignment_is_resolved_from_data(calls: list[Any]) -> None:
    run = start_run(load_diagram(read("templates/incoming.bpmn")), {}, REF)
    run = step(run, "register", {})
    run = step(run, "assign", {"lead_department_id": "3", "deadline": "2030-01-05"})
    task = run.ready_user_tasks()[0]
    assert (task.lane, task.form_key, task.candidate_department_id) == ("head", "incoming_assign_specialist", 3)
    assert task.due_at is not None


def test_outgoing_return_then_issue(calls: list[Any]) -> None:
    run = start_run(load_diagram(read("templates/outgoing.bpmn")), {"initiator_id": 5}, REF)
    run = step(run, "draft", {"summary": "x", "signer_id": 9})
    run = step(run, "review", {"decision": "return"})
    run = step(run, "draft", {"summary": "y"})
    run = step(run, "review", {"decision": "approve"})
    run = step(run, "approve", {"decision": "return"})
    run = step(run, "draft", {"summary": "z"})
    run = step(run, "review", {"decision": "approve"})
    assert run.ready_user_tasks()[0].candidate_user_id == 9
    run = step(run, "approve", {"decision": "approve", "number": 12})
    run = step(run, "issue", {"copies": 2})
    assert run.completed and [c[0] for c in calls] == ["documents.deliver"]
    assert calls[0][1]["number"] == 12  # what the signing step numbered reaches the delivery


def test_opinion_multi_instance_collects_answers() -> None:
    run = start_run(load_diagram(read("templates/opinion_request.bpmn")), {"initiator_id": 5}, REF)
    run = step(run, "request", {"reviewer_ids": [11, 12, 13], "deadline": "2030-02-01"})
    ready = run.ready_user_tasks()
    assert sorted(t.candidate_user_id for t in ready) == [11, 12, 13]
    assert {t.multi_instance_item for t in ready} == {11, 12, 13}
    for task, answer in zip(ready, ("agree", "agree_with_comments", "disagree"), strict=True):
        run = restore_run(run.diagram, run.dump(), REF)
        run.complete_task(task.task_uuid, {"answer": answer, "comment": f"Ý kiến của {task.candidate_user_id}"})
    consolidate = run.ready_user_tasks()
    assert [t.bpmn_id for t in consolidate] == ["consolidate"]
    assert run.task_data(consolidate[0].task_uuid)["answers"] == ["agree", "agree_with_comments", "disagree"]


def test_legal_review_override_returns_to_specialist(calls: list[Any]) -> None:
    run = start_run(load_diagram(read("isotp/incoming.bpmn")), {}, REF)
    run = step(run, "register", {})
    run = step(run, "assign", {"lead_department_id": 3})
    run = step(run, "assign_specialist", {"specialist_id": 42})
    run = step(run, "process", {"result": "ok", "request_reply": False})
    assert run.ready_user_tasks()[0].lane == "legal"
    run = step(run, "legal_review", {"decision": "return"})
    run = step(run, "process", {"result": "ok2", "request_reply": False})
    run = step(run, "legal_review", {"decision": "approve"})
    run = step(run, "confirm", {"decision": "complete"})
    assert run.completed


def test_condition_on_missing_data_stops_with_named_element() -> None:
    run = start_run(load_diagram(read("templates/incoming.bpmn")), {}, REF)
    run = step(run, "register", {})
    run = step(run, "assign", {"lead_department_id": 3})
    run = step(run, "assign_specialist", {"specialist_id": 42})
    with pytest.raises(WorkflowRuntimeError, match='không có dữ liệu "request_reply"'):
        step(run, "process", {"result": "ok"})


def test_dump_restore_keeps_unchanged_tasks_identical() -> None:
    run = start_run(load_diagram(read("templates/incoming.bpmn")), {}, REF)
    before = run.dump()
    run = step(run, "register", {"summary": "x"})
    after = run.dump()
    unchanged = [u for u in before.tasks if after.tasks.get(u) == before.tasks[u]]
    assert unchanged, "some tasks should be untouched by one step"
    assert len(after.tasks) >= len(before.tasks)


def test_script_in_diagram_would_never_run(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.workflow.engine import SafeEnvironment
    from app.workflow.errors import ExpressionError

    sentinel = tmp_path / "ran"
    monkeypatch.setattr(os, "system", lambda *a: sentinel.write_text("x"))
    with pytest.raises(ExpressionError, match="kịch bản"):
        SafeEnvironment().execute("import os; os.system('id')", {})
    with pytest.raises(ExpressionError):
        SafeEnvironment().evaluate("__import__('os').system('id')", {})
    assert not sentinel.exists()


def test_unknown_task_uuid_is_refused() -> None:
    run = start_run(load_diagram(read("templates/incoming.bpmn")), {}, REF)
    with pytest.raises(WorkflowRuntimeError, match="Không tìm thấy bước"):
        run.complete_task("00000000-0000-0000-0000-000000000000", {})
