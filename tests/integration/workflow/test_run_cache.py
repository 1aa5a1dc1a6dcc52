"""The per-process workflow cache: used only for the committed revision it was built from."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.workflow import queries, services


def _only_open(instance_id: int) -> Any:
    (task,) = queries.open_tasks(instance_id)
    return task


def _cached_revision(instance_id: int) -> int | None:
    entry = services._run_cache._items.get(instance_id)
    return entry[0] if entry is not None else None


def test_cache_is_filled_on_commit_and_ignored_when_another_node_moved_on(org: Any, publish: Any) -> None:
    publish(org.agency_id, "incoming")
    db.session.commit()
    a = org.actors
    inst = services.start_instance(org.agency_id, "incoming", subject_type="test", subject_id=1, data={},
                                   actor=a["clerk"])
    assert _cached_revision(inst.id) is None  # not before the commit
    db.session.commit()
    assert _cached_revision(inst.id) == inst.revision
    step = services.complete_task(_only_open(inst.id).id, a["clerk"], {"summary": "Công văn"})
    db.session.commit()
    assert _cached_revision(inst.id) == step.revision
    stale = services._run_cache._items[inst.id]

    # Another node completes "assign": this node's entry is now one revision behind.
    services._run_cache._items.pop(inst.id)
    moved = services.complete_task(_only_open(inst.id).id, a["leader"], {"lead_department_id": org.dept_a})
    db.session.commit()
    services._run_cache._items[inst.id] = stale
    assert moved.revision == stale[0] + 1

    task = _only_open(inst.id)
    assert task.bpmn_id == "assign_specialist"
    services.complete_task(task.id, a["head_a"], {"specialist_id": a["spec_a"].user_id})
    db.session.commit()
    assert _only_open(inst.id).bpmn_id == "process"  # the stale workflow (still at "assign") was not used


def test_a_rolled_back_step_never_reaches_the_cache(org: Any, publish: Any) -> None:
    publish(org.agency_id, "incoming")
    db.session.commit()
    a = org.actors
    inst = services.start_instance(org.agency_id, "incoming", subject_type="test", subject_id=2, data={},
                                   actor=a["clerk"])
    db.session.commit()
    register = _only_open(inst.id)
    services.complete_task(register.id, a["clerk"], {"summary": "lần 1"})
    db.session.rollback()
    assert _cached_revision(inst.id) is None
    again = services.complete_task(register.id, a["clerk"], {"summary": "lần 2"})
    db.session.commit()
    assert again.revision == inst.revision + 1
    assert _only_open(inst.id).bpmn_id == "assign"
    assert [e.kind for e in queries.instance_timeline(inst.id)].count("completed") == 1


def test_steps_within_one_transaction_chain_on_the_pending_workflow(org: Any, publish: Any) -> None:
    publish(org.agency_id, "incoming")
    a = org.actors
    inst = services.start_instance(org.agency_id, "incoming", subject_type="test", subject_id=3, data={},
                                   actor=a["clerk"])
    services.complete_task(_only_open(inst.id).id, a["clerk"], {})
    last = services.complete_task(_only_open(inst.id).id, a["leader"], {"lead_department_id": org.dept_a})
    db.session.commit()
    assert _cached_revision(inst.id) == last.revision == inst.revision + 2
    assert _only_open(inst.id).bpmn_id == "assign_specialist"
