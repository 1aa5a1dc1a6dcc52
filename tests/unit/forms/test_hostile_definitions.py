"""Form definitions an agency admin could write to stall a worker: YAML alias bombs, deep nesting, ReDoS patterns.

Costs are asserted as traced bytes and RE2 program sizes, not as time; the timeout only keeps a regression
(the old backtracking engine needs 2^n steps on these) from hanging the suite.
"""

from __future__ import annotations

import contextlib
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.yamlsafe import MAX_DEPTH, yaml_hazard
from app.forms import FormDefinitionError, format_yaml_roundtrip, parse_form_definition
from app.forms.patterns import PatternError, compile_pattern, full_match
from app.tenancy.definitions import parse_agency
from app.tenancy.errors import AgencyDefinitionError

pytestmark = pytest.mark.timeout(30)


def alias_bomb(levels: int = 7, fanout: int = 9) -> str:
    """The "billion laughs": each level lists the previous one ``fanout`` times (fanout**levels strings)."""
    lines = ['a0: &a0 "cười"']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fanout)}]")
    lines.append("title: Bom")
    lines.append(f"fields:\n  - {{name: x, label: *a{levels}, type: text}}")
    return "\n".join(lines) + "\n"


def _peak(fn) -> int:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        with contextlib.suppress(FormDefinitionError, AgencyDefinitionError):
            fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    text = alias_bomb()
    assert len(text) < 600
    with pytest.raises(FormDefinitionError) as info:
        parse_form_definition(text, "bom")
    assert "bí danh YAML" in " ".join(info.value.problems)
    assert _peak(lambda: parse_form_definition(text, "bom")) < 2 * 1024 * 1024


def test_the_editor_round_trip_refuses_aliases_too() -> None:
    with pytest.raises(FormDefinitionError) as info:
        format_yaml_roundtrip("base: &b {type: text}\nfields:\n  - <<: *b\n    name: x\n")
    assert "bí danh YAML" in " ".join(info.value.problems)


def test_an_agency_file_with_aliases_is_refused() -> None:
    with pytest.raises(AgencyDefinitionError, match="bí danh YAML"):
        parse_agency(alias_bomb(3, 3), source="bom.yaml")


DEEP = ["[" * 5000, "- " * 3000 + "x", "a:\n" + "".join("  " * i + "b:\n" for i in range(1, 80))]


@pytest.mark.parametrize("text", DEEP)
def test_deep_nesting_is_a_definition_error_not_a_crash(text: str) -> None:
    with pytest.raises(FormDefinitionError) as info:
        parse_form_definition(text, "sau")
    assert f"tối đa {MAX_DEPTH} cấp" in " ".join(info.value.problems)


def test_ordinary_definitions_still_load() -> None:
    defn = parse_form_definition("title: Phiếu\nfields:\n  - {name: ho_ten, label: Họ tên, type: text,"
                                 " pattern: '[\\w .]+'}\n", "phieu")
    assert defn.fields[0].pattern == "[\\w .]+"


# --- patterns ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern", ["(a+)+", "(a|a)*b", "(a|aa)+$", "([a-z]+)*@", "(\\w+\\s?)+$"])
def test_catastrophic_patterns_answer_in_linear_time(submit, pattern: str) -> None:
    text = f"title: X\nfields:\n  - {{name: a, label: A, type: text, pattern: '{pattern}'}}\n"
    _, form = submit(text, {"a": "a" * 40 + "!"})
    assert form.errors == {"a": ["Giá trị không đúng định dạng."]}
    assert compile_pattern(pattern).programsize < 2000


@pytest.mark.parametrize(("pattern", "fragment"), [("(a)\\1", "tham chiếu ngược"), ("(?=a)a", "nhìn trước"),
                                                   ("[\\W]", "\\W")])
def test_patterns_re2_cannot_run_are_refused_at_definition_time(pattern: str, fragment: str) -> None:
    with pytest.raises(FormDefinitionError) as info:
        parse_form_definition(f"title: X\nfields:\n  - {{name: a, label: A, type: text, pattern: '{pattern}'}}\n", "t")
    assert fragment in " ".join(info.value.problems)


def test_perl_classes_keep_their_unicode_meaning() -> None:
    assert full_match("[\\w ]+", "Nguyễn Văn Ánh")
    assert full_match("\\w+", "Đặng_Thị_Ỷ")
    assert not full_match("\\W", "ễ") and full_match("\\W", "-")
    assert full_match("\\d{2}/\\d{4}", "12/2026") and not full_match("\\D", "7")
    assert full_match("[^\\d]+", "abc") and full_match("[]a]+", "a]a")
    assert full_match("\\\\w", "\\w")  # an escaped backslash followed by a plain w


# --- properties --------------------------------------------------------------------------------------------------

PATTERN_TOKENS = st.sampled_from(["a", "b", "(", ")", "+", "*", "?", "|", "{2,5}", "[a-z]", "\\w", "\\d", ".", "^",
                                  "$", "(?:", "{1000}", "\\s"])


@settings(max_examples=300, deadline=None)
@given(st.lists(PATTERN_TOKENS, max_size=40), st.text(alphabet="ab1 -", max_size=1000))
def test_any_pattern_of_bounded_size_compiles_to_a_bounded_program(tokens: list[str], value: str) -> None:
    """RE2 runs in time proportional to program size times input length; both are bounded here."""
    pattern = "".join(tokens)
    try:
        compiled = compile_pattern(pattern)
    except PatternError:
        return
    assert compiled.programsize <= 100_000
    compiled.fullmatch(value)


YAML_TOKENS = st.sampled_from(["a: ", "&x ", "*x", "[", "]", "{", "}", ", ", "- ", "\n", "  ", "cười", "1", "'s'",
                               "&y ", "*y", "<<: ", "? ", ": "])


@settings(max_examples=300, deadline=None)
@given(st.lists(YAML_TOKENS, max_size=200))
def test_any_yaml_of_bounded_size_loads_in_bounded_memory(tokens: list[str]) -> None:
    text = "".join(tokens)
    assert _peak(lambda: parse_form_definition(text, "t")) < 4 * 1024 * 1024
    hazard = yaml_hazard(text)
    assert hazard is None or "bí danh" in hazard or "lồng nhau" in hazard
