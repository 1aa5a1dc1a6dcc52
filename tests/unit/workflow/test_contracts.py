"""Contracts between diagrams and forms: every shipped diagram, checked against the real forms/ and role codes.

A gateway that reads a field no form of its diagram has, or a step assigned from a field nobody fills,
only fails in production when a document reaches that point; these tests fail in CI instead.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from app.documents.workflow_ops import OPERATIONS as DOCUMENT_OPERATIONS
from app.forms import build_form, cleaned_data, known_form_keys, load_form
from app.tenancy.roles import WORKFLOW_ROLES
from app.workflow.engine import start_run
from app.workflow.loader import BPMN_NS, build_diagram, parse_xml
from app.workflow.operations import InstanceRef, register_operation, unregister_operation
from app.workflow.validation import produced_fields, referenced_fields, validate_diagram
from tests.unit.workflow.conftest import PROCESSES

FORMS_DIR = Path(__file__).resolve().parents[3] / "forms"
SHIPPED = sorted(str(p.relative_to(PROCESSES)) for p in PROCESSES.rglob("*.bpmn"))
# Put into every instance by app.workflow.services.start_instance.
INSTANCE_VARIABLES = frozenset({"initiator_id", "initiator_department_id"})
# What the domain that starts a process passes in ``data`` (keep in step with its start_instance call).
START_DATA = {
    "opinion_answer": frozenset({"reviewer", "deadline", "opinion_request_id", "origin_agency_id"}),
}


def _xml(path: str) -> str:
    return (PROCESSES / path).read_text(encoding="utf-8")


def _form_fields(keys: frozenset[str]) -> frozenset[str]:
    return frozenset(f.name for key in keys for f in load_form(key, FORMS_DIR).fields)


@pytest.mark.parametrize("path", SHIPPED)
def test_diagram_is_valid_against_real_forms_and_roles(path: str) -> None:
    info = validate_diagram(_xml(path), known_roles=WORKFLOW_ROLES, known_forms=known_form_keys(FORMS_DIR),
                            known_operations=frozenset(DOCUMENT_OPERATIONS))
    assert info.user_tasks
    assert info.lanes <= WORKFLOW_ROLES


@pytest.mark.parametrize("path", SHIPPED)
def test_every_name_a_diagram_reads_is_filled_by_one_of_its_forms(path: str) -> None:
    xml = _xml(path)
    info = validate_diagram(xml, known_roles=WORKFLOW_ROLES, known_forms=None,
                            known_operations=frozenset(DOCUMENT_OPERATIONS))
    available = (_form_fields(info.form_keys) | INSTANCE_VARIABLES | produced_fields(xml)
                 | START_DATA.get(info.process_id, frozenset()))
    missing = {name: sorted(ids) for name, ids in referenced_fields(xml).items() if name not in available}
    assert missing == {}, f"{path} reads fields no form of it fills: {missing}"


def _compared_literals(expression: str) -> list[tuple[str, str]]:
    """``(field, "value")`` pairs an expression compares with ``==``, ``!=``, ``in`` or ``not in``."""
    pairs = []
    for node in ast.walk(ast.parse(expression, mode="eval")):
        if not isinstance(node, ast.Compare) or len(node.ops) != 1:
            continue
        left, right = node.left, node.comparators[0]
        if isinstance(right, ast.Name):
            left, right = right, left
        if not isinstance(left, ast.Name):
            continue
        values = right.elts if isinstance(right, ast.Tuple | ast.List | ast.Set) else [right]
        pairs.extend((left.id, v.value) for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return pairs


@pytest.mark.parametrize("path", SHIPPED)
def test_every_value_a_condition_compares_with_is_a_choice_of_that_field(path: str) -> None:
    xml = _xml(path)
    info = validate_diagram(xml, known_roles=WORKFLOW_ROLES, known_forms=None,
                            known_operations=frozenset(DOCUMENT_OPERATIONS))
    choices: dict[str, set[str]] = {}
    for key in info.form_keys:
        for f in load_form(key, FORMS_DIR).fields:
            if f.choices:
                choices.setdefault(f.name, set()).update(str(c.value) for c in f.choices)
    wrong = []
    for condition in parse_xml(xml).iter(f"{{{BPMN_NS}}}conditionExpression"):
        for name, value in _compared_literals(condition.text or ""):
            if name in choices and value not in choices[name]:
                wrong.append(f"{name} == {value!r} (choices: {sorted(choices[name])})")
    assert wrong == [], f"{path}: {wrong}"


def test_a_renamed_field_is_caught() -> None:
    xml = _xml("templates/incoming.bpmn").replace("request_reply == True", "need_reply == True")
    refs = referenced_fields(xml)
    assert refs["need_reply"] == frozenset({"Flow_reply"})
    assert "need_reply" not in _form_fields(frozenset({"incoming_process"}))


def test_referenced_fields_ignore_constants_and_functions() -> None:
    xml = _xml("templates/incoming.bpmn").replace("request_reply == True", 'lower(kind) == "x" and true')
    refs = referenced_fields(xml)
    assert "kind" in refs and "lower" not in refs and "true" not in refs


def _submit(key: str, values: dict[str, str]) -> dict[str, Any]:
    defn = load_form(key, FORMS_DIR)
    form = build_form(defn, choices=None, formdata=MultiDict(values), csrf=False)
    assert form.validate(), form.errors
    return cleaned_data(defn, form)


def test_unchecked_reply_box_is_false_and_takes_the_no_reply_branch() -> None:
    data = _submit("incoming_process", {"result": "Đã xử lý"})
    assert data["request_reply"] is False
    calls: list[str] = []
    register_operation("documents.start_reply", lambda ref, d: calls.append("reply") or None, replace=True)
    try:
        diagram = build_diagram(_xml("templates/incoming.bpmn"))
        run = start_run(diagram, {"initiator_id": 1}, InstanceRef(1, 1, "incoming", "incoming", 1))
        for step, values in (("register", {}), ("assign", {"lead_department_id": 5}),
                             ("assign_specialist", {"specialist_id": 7}), ("process", data)):
            (ready,) = run.ready_user_tasks()
            assert ready.bpmn_id == step
            run.complete_task(ready.task_uuid, values)
        (confirm,) = run.ready_user_tasks()
        assert confirm.bpmn_id == "confirm" and calls == []
    finally:
        unregister_operation("documents.start_reply")


def test_opinion_answers_are_collected_from_the_answer_field() -> None:
    diagram = build_diagram(_xml("templates/opinion_request.bpmn"))
    run = start_run(diagram, {"initiator_id": 1}, InstanceRef(1, 1, "opinion_request", "opinion", 1))
    (request,) = run.ready_user_tasks()
    run.complete_task(request.task_uuid, {"title": "Xin ý kiến", "reviewer_ids": [11, 12], "deadline": "2030-01-10"})
    answers = run.ready_user_tasks()
    assert sorted(t.candidate_user_id for t in answers) == [11, 12]
    for task, answer in zip(answers, ("agree", "disagree"), strict=True):
        run.complete_task(task.task_uuid, _submit("opinion_answer", {"answer": answer, "comment": "Ý kiến"}))
    (consolidate,) = run.ready_user_tasks()
    assert consolidate.bpmn_id == "consolidate"
    assert sorted(run.data["answers"]) == ["agree", "disagree"]


def test_a_value_outside_the_choices_is_caught() -> None:
    condition = 'decision == "sendback"'
    assert _compared_literals(condition) == [("decision", "sendback")]
    choices = {str(c.value) for c in load_form("incoming_confirm", FORMS_DIR).fields[0].choices}
    assert "sendback" not in choices and "send_back" in choices
