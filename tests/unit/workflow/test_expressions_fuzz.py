"""Fuzz the evaluator: any input either evaluates or raises ExpressionError, and never runs code."""

from __future__ import annotations

import builtins
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.workflow.expressions import FUNCTIONS, ExpressionError, evaluate

DATA = {"a": 1, "b": "x", "ids": [1, 2], "flag": True, "form": {"k": 2}}

ATOMS = st.sampled_from(
    ["a", "b", "ids", "flag", "form", "1", "0", "-1", "2.5", "'s'", '"PT5M"', "True", "None", "[]", "()",
     "__import__", "__class__", "__builtins__", "open", "os", "exec", "eval", "getattr", "lambda: 0", "9",
     "10**9", "'a'*9"]
)
OPS = st.sampled_from(
    [" + ", " - ", " * ", " / ", " // ", " % ", " ** ", " == ", " != ", " < ", " <= ", " in ", " not in ",
     " and ", " or ", " is ", ".", "[", "(", ",", " if ", " else ", " for x in ", ":", "@", "|", "<<"]
)


@st.composite
def expressions(draw: st.DrawFn) -> str:
    parts = [draw(ATOMS)]
    for _ in range(draw(st.integers(0, 8))):
        parts.append(draw(OPS))
        parts.append(draw(ATOMS))
    text = "".join(parts)
    if draw(st.booleans()):
        name = draw(st.sampled_from([*FUNCTIONS, "open", "__import__", "getattr", "vars", "type"]))
        text = f"{name}({text})"
    return text


DANGEROUS_MODULES = {"os", "subprocess", "shutil", "socket", "ctypes", "importlib", "sys", "builtins", "pty"}


class Tripwires:
    """Records calls to dangerous functions made while ``armed`` (i.e. during evaluate only)."""

    def __init__(self) -> None:
        self.armed = False
        self.calls: list[Any] = []


@pytest.fixture
def tripwires(monkeypatch: pytest.MonkeyPatch) -> Tripwires:
    wires = Tripwires()
    for module, name in ((os, "system"), (os, "popen"), (os, "remove"), (builtins, "open"), (builtins, "__import__")):
        original = getattr(module, name)

        def trap(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            # The stdlib imports lazily (ast.walk imports collections); only dangerous modules count.
            harmless_import = _name == "__import__" and str(args[0]).split(".")[0] not in DANGEROUS_MODULES
            if wires.armed and not harmless_import:
                wires.calls.append((_name, args))
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, trap)
    return wires


def _check(text: str, wires: Tripwires) -> None:
    wires.armed = True
    try:
        result = evaluate(text, DATA)
    except ExpressionError as exc:
        assert exc.message
    else:
        assert isinstance(result, int | float | str | bool | list | tuple | set | dict | type(None)) or hasattr(
            result, "isoformat"
        )
    finally:
        wires.armed = False
    assert wires.calls == []


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expressions())
def test_structured_expressions_never_escape(tripwires: Tripwires, text: str) -> None:
    _check(text, tripwires)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=120))
def test_random_text_never_escapes(tripwires: Tripwires, text: str) -> None:
    _check(text, tripwires)
