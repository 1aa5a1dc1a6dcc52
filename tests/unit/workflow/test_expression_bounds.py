"""Agency-admin expressions that would stall the worker are refused — at check time where the data cannot matter.

Costs are asserted as steps and cells counted by the evaluator and bytes traced by tracemalloc, never as time.
The timeout only stops a regression from hanging the suite (the old evaluator took seconds to minutes on these).
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.errors import ValidationError
from app.designer.diagrams import check_condition
from app.workflow.expressions import (
    MAX_EXPRESSION_LENGTH,
    MAX_STEPS,
    MAX_VALUE_SIZE,
    MAX_WORK,
    ExpressionError,
    ExpressionLimitError,
    check_expression,
    evaluate,
    evaluation_cost,
)

pytestmark = pytest.mark.timeout(30)

# From issue #16: each passed validation and stalled a worker (seconds, hundreds of MB).
STALLS = [
    ("round(1, -10**7)", "chữ số làm tròn"),
    ("round(1, -10**9)", "chữ số làm tròn"),
    ("'%0100000000d' % 1", "Độ rộng định dạng"),
    ("len(str([[0]*9999]*9999))", "quá lớn"),
    ("'%.100000000f' % 1.5", "Độ rộng định dạng"),
    ("len(str(10**9 ** 64 * 10**9 ** 64))", "quá lớn"),
    ("[1] * 10**6", "quá dài"),
    ("'ab' * 60000", "quá dài"),
]


@pytest.mark.parametrize(("expression", "fragment"), STALLS)
def test_the_stalls_are_refused_at_check_time(expression: str, fragment: str) -> None:
    with pytest.raises(ExpressionLimitError) as info:
        check_expression(expression)
    assert fragment in info.value.message


@pytest.mark.parametrize("expression", ["round(1, -10**9)", "len(str([[0]*9999]*9999))", "'%0100000000d' % n"])
def test_the_designer_no_longer_calls_them_valid(expression: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_condition(expression)
    assert info.value.message.startswith("Điều kiện không hợp lệ")


def test_bounds_that_do_not_depend_on_the_data_are_applied_to_the_known_parts() -> None:
    for expression in ("round(amount, -10**9)", "'%0100000000d' % amount", "amount ** 100", "(10**10) ** amount",
                       "amount > 0 and round(amount, 99)", "'%*d' % (amount, 1)"):
        with pytest.raises(ExpressionLimitError):
            check_expression(expression)
    for fine in ("round(amount, -3) >= 1000000", "'%05d' % amount", "amount ** 2 > 10", "amount * 10**6"):
        check_expression(fine)


@pytest.mark.parametrize(("expression", "data", "fragment"), [
    ("round(n, d)", {"n": 1, "d": -10**9}, "chữ số làm tròn"),
    ("text * n", {"text": "ab", "n": 10**9}, "quá dài"),
    ("rows * n", {"rows": [[0] * 100], "n": 1000}, "quá dài"),
    ("n * n", {"n": 2**1000}, "quá lớn"),
    ("n ** e", {"n": 10, "e": 10**6}, "Số mũ"),
    ("fmt % 1", {"fmt": "%0100000000d"}, "Độ rộng định dạng"),
    ("str(rows)", {"rows": [list(range(1000))] * 100}, "quá lớn"),
    ("text + text", {"text": "a" * 60_000}, "quá dài"),
])
def test_run_time_bounds_on_values_from_the_data(expression: str, data: dict[str, Any], fragment: str) -> None:
    check_expression(expression)
    with pytest.raises(ExpressionLimitError) as info:
        evaluate(expression, data)
    assert fragment in info.value.message


def test_ordinary_conditions_still_compute() -> None:
    data = {"amount": 12_345_678, "body": "x" * 20_000, "ids": list(range(4000)), "decision": "approve"}
    assert evaluate("round(amount, -3)", data) == 12_346_000
    assert evaluate("'%.2f' % (amount / 1000)", data) == "12345.68"
    assert evaluate("len(lower(body)) == 20000 and 3999 in ids", data) is True
    assert evaluate("len(ids + ids) == 8000", data) is True
    assert evaluate('decision in ["approve", "send_back"]', data) is True


def test_work_across_one_expression_is_bounded_too() -> None:
    # Each part is within the per-value bound; together they would exceed the budget for one evaluation.
    parts = " + ".join(["len([0]*9000)"] * 14)
    steps, work = evaluation_cost(parts)
    with pytest.raises(ExpressionLimitError, match="quá nhiều dữ liệu"):
        evaluate(parts)
    assert work <= MAX_WORK + MAX_VALUE_SIZE and steps <= MAX_STEPS


# --- property: nothing of bounded size costs more than a bounded amount ---------------------------------------

ATOMS = st.sampled_from([
    "1", "-1", "0", "9", "10**9", "2.5", "1e308", "'a'", "'ab'*99", "'%d'", "'%0100d'", "'%s%s'", "[0]*9999",
    "[[0]*99]*99", "(1, 2)", "n", "s", "rows", "True", "None", "today()", "'2026-01-01'", "[]", "''",
])
BINARY = st.sampled_from([" + ", " - ", " * ", " / ", " // ", " % ", " ** ", " == ", " < ", " in ", " and ", " or "])
FUNCS = st.sampled_from(["len", "str", "int", "float", "abs", "round", "min", "max", "upper", "strip", "bool"])
DATA = {"n": 10**9, "s": "x" * 50_000, "rows": [[0] * 99] * 99}


@st.composite
def bounded_expressions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth > 3 or draw(st.integers(0, 3)) == 0:
        return draw(ATOMS)
    shape = draw(st.integers(0, 3))
    left = draw(bounded_expressions(depth + 1))
    if shape == 0:
        return f"({left}{draw(BINARY)}{draw(bounded_expressions(depth + 1))})"
    if shape == 1:
        return f"{draw(FUNCS)}({left})"
    if shape == 2:
        return f"round({left}, {draw(bounded_expressions(depth + 1))})"
    return f"[{left}, {draw(bounded_expressions(depth + 1))}] * {draw(ATOMS)}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bounded_expressions())
def test_no_expression_of_bounded_size_builds_or_allocates_much(expression: str) -> None:
    if len(expression) > MAX_EXPRESSION_LENGTH:
        return
    tracemalloc.start()
    try:
        try:
            evaluate(expression, DATA)
        except ExpressionError as exc:
            assert exc.message
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    steps, work = evaluation_cost(expression, DATA)
    assert steps <= MAX_STEPS
    assert work <= MAX_WORK + MAX_VALUE_SIZE
    assert peak < 16 * 1024 * 1024, f"{expression}: {peak / 1048576:.1f} MB"


@settings(max_examples=300, deadline=None)
@given(bounded_expressions())
def test_what_check_accepts_without_data_never_hits_a_bound_at_run_time(expression: str) -> None:
    """For expressions that read no data, the checker computed everything: accepted means runnable."""
    if len(expression) > MAX_EXPRESSION_LENGTH or any(name in expression for name in ("n", "s", "rows")):
        return
    try:
        check_expression(expression)
    except ExpressionError:
        return
    try:
        evaluate(expression)
    except ExpressionLimitError as exc:  # pragma: no cover — the failure this test exists to catch
        pytest.fail(f"{expression!r} was accepted at check time but refused at run time: {exc.message}")
    except ExpressionError:
        pass
