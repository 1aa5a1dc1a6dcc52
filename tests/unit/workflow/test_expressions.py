"""The diagram expression language: what it computes, what it refuses, and that refusals run nothing."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.core import clock
from app.workflow.expressions import MAX_EXPRESSION_LENGTH, ExpressionError, check_expression, evaluate

DATA = {"decision": "send_back", "request_reply": True, "ids": [1, 2, 3], "form": {"k": 5}, "n": 7}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('decision == "send_back"', True),
        ("request_reply == True and not (n < 3)", True),
        ("n * 2 + 1", 15),
        ("2 ** 10", 1024),
        ('decision in ["complete", "send_back"]', True),
        ("3 not in ids", False),
        ("len(ids)", 3),
        ('form["k"] > 4', True),
        ("ids[0]", 1),
        ('upper("abc") == "ABC" and lower("ĐÂY") == "đây"', True),
        ('"yes" if n > 5 else "no"', "yes"),
        ('"PT5M"', "PT5M"),
        ("null is None", True),
    ],
)
def test_allowed_expressions_compute(expression: str, expected: Any) -> None:
    assert evaluate(expression, DATA) == expected


def test_date_helpers_use_the_app_clock() -> None:
    clock.freeze(dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC))
    try:
        assert evaluate("today()") == dt.date(2026, 11, 27)
        assert evaluate('days_until("2026-12-01")') == 4
        assert evaluate("days_until(deadline) < 0", {"deadline": "2026-11-01"}) is True
    finally:
        clock.freeze(None)


HOSTILE = [
    ("__import__('os').system('touch {sentinel}')", "__import__"),
    ("().__class__.__mro__", "thuộc tính"),
    ("(lambda: 1)()", "theo tên"),
    ("[x for x in ().__class__.__bases__]", "comprehension"),
    ("open('{sentinel}', 'w')", '"open" không được phép'),
    ("exec('open(\"{sentinel}\", \"w\")')", '"exec" không được phép'),
    ("eval('1')", '"eval" không được phép'),
    ("getattr(ids, 'append')", '"getattr" không được phép'),
    ("9**9**9", "Số mũ"),
    ("'a'*10**9", "quá dài"),
    ("form['__class__']", 'bắt đầu bằng "_"'),
    ("ids.__len__()", "thuộc tính"),
    ("_secret", 'bắt đầu bằng "_"'),
    ("x := 1", "cú pháp"),
    ("f'{{ids}}'", "f-string"),
    ("{{k: 1 for k in ids}}", "comprehension"),
    ("ids[0:2]", "khóa cố định"),
    ("len(*ids)", "toán tử *"),
    ("1 if True else 2; import os", "cú pháp"),
]


@pytest.mark.parametrize(("template", "fragment"), HOSTILE)
def test_hostile_expressions_are_refused_and_run_nothing(
    template: str, fragment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sentinel = tmp_path / "sentinel"
    calls: list[Any] = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or 0)
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: calls.append(a))
    expression = template.format(sentinel=sentinel)
    with pytest.raises(ExpressionError) as info:
        evaluate(expression, DATA)
    assert fragment in info.value.message
    assert not sentinel.exists() and calls == []


def test_length_limit_names_the_limit() -> None:
    with pytest.raises(ExpressionError, match=f"vượt quá giới hạn {MAX_EXPRESSION_LENGTH}"):
        check_expression("1 + " * 200 + "1")


@pytest.mark.parametrize(
    ("expression", "data", "fragment"),
    [
        ("missing == 1", {}, 'không có dữ liệu "missing"'),
        ("1 / 0", {}, "chia cho 0"),
        ('n < "a"', {"n": 1}, "không tính được"),
        ('form["nope"]', {"form": {}}, "không có phần tử"),
        ("decision ==", {}, "sai cú pháp"),
        ("", {}, "trống"),
        ('date("hôm qua")', {}, "không phải là ngày"),
    ],
)
def test_runtime_failures_are_expression_errors_in_vietnamese(
    expression: str, data: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate(expression, data)
    assert fragment in info.value.message
