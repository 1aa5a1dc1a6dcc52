"""Workflow services on the migrated database: versions, routing, inbox, permissions, conflicts."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from app.core.errors import ConflictError, NotFoundError, PermissionDeniedError, RefusedError
from app.extensions import db
from app.workflow import queries, services
from app.workflow.errors import DiagramInvalidError
from app.workflow.models import ProcessVersion, WorkflowTaskState
from tests.integration.workflow.conftest import PROCESSES, ROLES, template


def _only_open(instance_id: int) -> Any:
    tasks = queries.open_tasks(instance_id)
    assert len(tasks) == 1, tasks
    return tasks[0]


def _start_incoming(org: Any, subject_id: int = 1) -> Any:
    return services.start_instance(org.agency_id, "incoming", subject_type="test", subject_id=subject_id,
                                   data={}, actor=org.actors["clerk"])


def test_versions_are_numbered_and_agency_override_wins(org: Any, publish: Any) -> None:
    # The shared database may already hold templates published by other tests: compare relative numbers.
    t1 = publish(None, "incoming", note="mẫu")
    t2 = publish(None, "incoming")
    assert t2.number == t1.number + 1
    assert services.current_version(org.agency_id, "incoming").id == t2.id
    xml = (PROCESSES / "isotp" / "incoming.bpmn").read_text(encoding="utf-8")
    own = publish(org.agency_id, "incoming", xml)
    assert own.number == 1 and own.base_template_version_id == t2.id
    assert services.current_version(org.agency_id, "incoming").id == own.id
    with pytest.raises(NotFoundError):
        services.current_version(org.agency_id, "no_such_process")


def test_published_version_is_immutable(org: Any, publish: Any) -> None:
    version = publish(org.agency_id, "outgoing")
    with pytest.raises(RefusedError, match="đã ban hành"):
        services.update_draft(version.id, template("incoming"))
    row = db.session.get(ProcessVersion, version.id)
    row.bpmn_xml = "<changed/>"
    with pytest.raises(ValueError, match="immutable"):
        db.session.flush()
    db.session.rollback()


def test_publish_refuses_invalid_diagram_with_all_problems(org: Any) -> None:
    xml = template("incoming").replace('qlvb:role="leader"', 'qlvb:role="boss"').replace('value="incoming_assign"',
                                                                                        'value="x"')
    with pytest.raises(DiagramInvalidError) as info:
        services.publish_version(org.agency_id, "incoming", xml, by_user_id=None, note="", known_roles=ROLES,
                                 known_forms={"incoming_register", "incoming_assign_specialist", "incoming_process",
                                              "incoming_confirm"}, known_operations={"documents.start_reply"})
    messages = [p.message_vi for p in info.value.problems]
    assert any("vai trò «boss» không có trong danh mục" in m for m in messages)
    assert any(m == "Bước «Phân công xử lý» (mã assign): biểu mẫu «x» không tồn tại" for m in messages)


def test_incoming_route_with_reply_and_send_back(org: Any, publish: Any, operations: Any) -> None:
    publish(org.agency_id, "incoming")
    a = org.actors
    inst = _start_incoming(org, subject_id=501)
    assert inst.status == "running"

    register = _only_open(inst.id)
    assert register.bpmn_id == "register" and register.candidate_role == "clerk"
    assert [t.id for t in queries.inbox(a["clerk"], "todo")] == [register.id]
    assert queries.inbox(a["leader"], "todo") == []
    services.complete_task(register.id, a["clerk"], {"summary": "Công văn số 1"})

    assign = _only_open(inst.id)
    with pytest.raises(PermissionDeniedError, match="không có quyền"):
        services.complete_task(assign.id, a["clerk"], {"lead_department_id": org.dept_a})
    services.complete_task(assign.id, a["leader"], {"lead_department_id": org.dept_a, "deadline": "2030-01-10"})

    assign_specialist = _only_open(inst.id)
    assert assign_specialist.candidate_department_id == org.dept_a
    assert queries.inbox(a["head_b"], "todo") == []  # head of another department sees nothing
    assert queries.count_inbox(a["head_a"], "todo") == 1
    with pytest.raises(PermissionDeniedError):
        services.complete_task(assign_specialist.id, a["head_b"], {"specialist_id": a["spec_a"].user_id})
    services.complete_task(assign_specialist.id, a["head_a"], {"specialist_id": a["spec_a"].user_id})

    process = _only_open(inst.id)
    assert process.candidate_user_id == a["spec_a"].user_id
    with pytest.raises(PermissionDeniedError):
        services.complete_task(process.id, a["spec_b"], {"result": "x", "request_reply": False})
    services.complete_task(process.id, a["spec_a"], {"result": "Đã xử lý", "request_reply": True,
                                                      "reply_summary": "Trả lời"})
    assert [c[0] for c in operations.calls] == ["documents.start_reply"]
    ref = operations.calls[0][1]
    assert (ref.instance_id, ref.agency_id, ref.subject_id) == (inst.id, org.agency_id, 501)

    confirm = _only_open(inst.id)
    services.complete_task(confirm.id, a["head_a"], {"decision": "send_back"}, comment="Bổ sung số liệu")
    process_again = _only_open(inst.id)
    assert process_again.bpmn_id == "process" and process_again.id != process.id
    services.complete_task(process_again.id, a["spec_a"], {"result": "Đã bổ sung", "request_reply": False})
    final = services.complete_task(_only_open(inst.id).id, a["head_a"], {"decision": "complete"})
    assert final.status == "completed" and final.open_task_ids == ()

    kinds = [e.kind for e in queries.instance_timeline(inst.id)]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert "returned" in kinds and "operation" in kinds
    done = queries.inbox(a["spec_a"], "done")
    assert {t.id for t in done} == {process.id, process_again.id}
    progress = queries.instance_progress(inst.id)
    assert {"register", "process", "confirm", "start_reply"} <= progress.done_ids
    assert progress.active_ids == frozenset()
    assert [i.id for i in queries.instances_for_subject("test", 501)] == [inst.id]


def test_outgoing_route_runs_service_tasks(org: Any, publish: Any, operations: Any) -> None:
    publish(org.agency_id, "outgoing")
    a = org.actors
    inst = services.start_instance(org.agency_id, "outgoing", subject_type="test", subject_id=9,
                                   data={}, actor=a["spec_a"])
    draft = _only_open(inst.id)
    assert draft.candidate_user_id == a["spec_a"].user_id
    services.complete_task(draft.id, a["spec_a"], {"summary": "Dự thảo", "signer_id": a["leader"].user_id})
    review = _only_open(inst.id)
    assert review.candidate_department_id == org.dept_a
    services.complete_task(review.id, a["head_a"], {"decision": "return", "comment": "Sửa"})
    services.complete_task(_only_open(inst.id).id, a["spec_a"], {"summary": "Dự thảo 2"})
    services.complete_task(_only_open(inst.id).id, a["head_a"], {"decision": "approve"})
    services.complete_task(_only_open(inst.id).id, a["leader"], {"decision": "approve"})
    done = services.complete_task(_only_open(inst.id).id, a["clerk"], {"copies": 3})
    assert done.status == "completed"
    assert [c[0] for c in operations.calls] == ["documents.deliver"]
    assert operations.calls[0][2]["copies"] == 3  # what a step's form said reaches the operation


def test_instance_finishes_on_the_version_it_started_with(org: Any, publish: Any, operations: Any) -> None:
    publish(org.agency_id, "incoming")
    inst = _start_incoming(org)
    xml = (PROCESSES / "isotp" / "incoming.bpmn").read_text(encoding="utf-8")
    newer = publish(org.agency_id, "incoming", xml)
    assert inst.version_id != newer.id
    a = org.actors
    services.complete_task(_only_open(inst.id).id, a["clerk"], {})
    services.complete_task(_only_open(inst.id).id, a["leader"], {"lead_department_id": org.dept_a})
    services.complete_task(_only_open(inst.id).id, a["head_a"], {"specialist_id": a["spec_a"].user_id})
    services.complete_task(_only_open(inst.id).id, a["spec_a"], {"result": "x", "request_reply": False})
    assert _only_open(inst.id).bpmn_id == "confirm"  # the old version has no legal review
    newer_instance = _start_incoming(org)
    assert newer_instance.version_id == newer.id


def test_claim_hides_task_from_colleagues(org: Any, publish: Any) -> None:
    publish(org.agency_id, "incoming")
    inst = _start_incoming(org)
    task = _only_open(inst.id)
    other_clerk_actor = org.actors["clerk"].__class__(
        user_id=org.actors["legal"].user_id, agency_id=org.agency_id, roles=frozenset({"clerk"}), department_id=None
    )
    claimed = services.claim_task(task.id, org.actors["clerk"])
    assert claimed.claimed_by_id == org.actors["clerk"].user_id
    assert [t.id for t in queries.inbox(org.actors["clerk"], "in_progress")] == [task.id]
    assert queries.inbox(other_clerk_actor, "todo") == []
    with pytest.raises(ConflictError, match="người khác nhận"):
        services.claim_task(task.id, other_clerk_actor)


def test_completing_twice_is_a_conflict(org: Any, publish: Any) -> None:
    publish(org.agency_id, "incoming")
    inst = _start_incoming(org)
    task = _only_open(inst.id)
    services.complete_task(task.id, org.actors["clerk"], {})
    with pytest.raises(ConflictError, match="đã được xử lý bởi người khác"):
        services.complete_task(task.id, org.actors["clerk"], {})


def test_concurrent_completion_exactly_one_wins(app: Any, org: Any, publish: Any) -> None:
    publish(org.agency_id, "incoming")
    inst = _start_incoming(org)
    task_id = _only_open(inst.id).id
    db.session.commit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        with app.app_context():
            barrier.wait()
            try:
                services.complete_task(task_id, org.actors["clerk"], {"summary": "song song"})
                db.session.commit()
                outcomes.append("won")
            except ConflictError:
                db.session.rollback()
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["conflict", "won"]
    db.session.expire_all()
    assert queries.get_instance(inst.id).revision == inst.revision + 1
    assert len(queries.open_tasks(inst.id)) == 1


def test_each_step_writes_only_changed_task_rows(org: Any, publish: Any) -> None:
    publish(org.agency_id, "incoming")
    inst = _start_incoming(org)
    rows_before = db.session.scalar(
        select(func.count()).select_from(WorkflowTaskState).where(WorkflowTaskState.instance_id == inst.id)
    )
    assert rows_before > 0
    services.complete_task(_only_open(inst.id).id, org.actors["clerk"], {})
    run_rows = db.session.scalar(
        select(func.count()).select_from(WorkflowTaskState).where(WorkflowTaskState.instance_id == inst.id)
    )
    assert run_rows >= rows_before


PARALLEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="x">
  <bpmn:process id="parallel_review" isExecutable="true">
    <bpmn:laneSet id="LS"><bpmn:lane id="L" name="clerk">
      <bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>fork</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>a</bpmn:flowNodeRef><bpmn:flowNodeRef>b</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>join</bpmn:flowNodeRef><bpmn:flowNodeRef>e</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s" />
    <bpmn:parallelGateway id="fork" />
    <bpmn:userTask id="a" name="Góp ý phần A"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formKey" value="f" />
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:userTask id="b" name="Góp ý phần B"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formKey" value="f" />
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:parallelGateway id="join" />
    <bpmn:endEvent id="e" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="fork" />
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="a" />
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="b" />
    <bpmn:sequenceFlow id="f4" sourceRef="a" targetRef="join" />
    <bpmn:sequenceFlow id="f5" sourceRef="b" targetRef="join" />
    <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>"""


def test_parallel_tasks_completed_at_the_same_time(app: Any, org: Any, publish: Any) -> None:
    """Two people finish parallel steps of one instance at once. PostgreSQL: the second waits for the first's
    lock, then works on what the first committed, and both succeed. SQLite (no row locks): the second gets
    the clear conflict message, and nothing of its step is kept."""
    publish(org.agency_id, "parallel_review", PARALLEL)
    inst = services.start_instance(org.agency_id, "parallel_review", subject_type="bench", subject_id=77, data={},
                                   actor=org.actors["clerk"])
    db.session.commit()
    first, second = sorted(queries.open_tasks(inst.id), key=lambda t: t.bpmn_id)
    first_holds_lock = threading.Event()
    outcomes: dict[str, str] = {}

    def complete(task_id: int, name: str, hold: bool) -> None:
        with app.app_context():
            try:
                services.complete_task(task_id, org.actors["clerk"], {name: "đồng ý"})
                if hold:
                    first_holds_lock.set()
                    threading.Event().wait(0.5)  # the other step starts while this one is uncommitted
                db.session.commit()
                outcomes[name] = "done"
            except ConflictError:
                db.session.rollback()
                outcomes[name] = "conflict"
            finally:
                first_holds_lock.set()
                db.session.remove()

    holder = threading.Thread(target=complete, args=(first.id, "a", True))
    holder.start()
    first_holds_lock.wait(30)
    waiter = threading.Thread(target=complete, args=(second.id, "b", False))
    waiter.start()
    holder.join(60)
    waiter.join(60)
    db.session.expire_all()
    instance = queries.get_instance(inst.id)
    if db.engine.dialect.name == "postgresql":
        assert outcomes == {"a": "done", "b": "done"}
        assert instance.status == "completed" and instance.revision == inst.revision + 2
    else:
        assert outcomes["a"] == "done" and outcomes["b"] in {"done", "conflict"}
        expected = 2 if outcomes["b"] == "done" else 1
        assert instance.revision == inst.revision + expected
        assert len(queries.open_tasks(inst.id)) == (0 if outcomes["b"] == "done" else 1)
