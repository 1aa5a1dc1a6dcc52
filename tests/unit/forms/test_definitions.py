from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from app.forms import (
    FormDefinitionError,
    FormNotFoundError,
    format_yaml_roundtrip,
    known_form_keys,
    load_all_forms,
    load_form,
    parse_form_definition,
)

CONTRACT = {
    "incoming_register": {"summary": "textarea", "urgency": "select", "note": "textarea"},
    "incoming_assign": {
        "lead_department_id": "department",
        "coordinating_department_ids": "departments",
        "deadline": "date",
        "direction": "textarea",
    },
    "incoming_assign_specialist": {"specialist_id": "user", "deadline": "date", "note": "textarea"},
    "incoming_process": {"result": "textarea", "request_reply": "checkbox", "reply_summary": "text"},
    "incoming_confirm": {"decision": "radio", "comment": "textarea"},
    "outgoing_draft": {
        "doc_type": "select",
        "summary": "textarea",
        "body": "textarea",
        "recipients": "textarea",
        "recipient_agency_codes": "agencies",
        "urgency": "select",
        "signer_id": "user",
    },
    "outgoing_review": {"decision": "radio", "comment": "textarea"},
    "outgoing_approve": {"decision": "radio", "comment": "textarea"},
    "outgoing_issue": {"issue_date": "date", "copies": "integer", "note": "textarea"},
    "legal_review": {"decision": "radio", "comment": "textarea"},
    "task_assign": {
        "title": "text",
        "description": "textarea",
        "lead_user_id": "user",
        "coordinating_user_ids": "users",
        "lead_department_id": "department",
        "deadline": "date",
    },
    "task_report": {
        "percent": "integer",
        "note": "textarea",
        "request_extension": "checkbox",
        "new_deadline": "date",
    },
    "task_extension_decision": {"decision": "radio", "comment": "textarea"},
    "task_evaluate": {"rating": "radio", "comment": "textarea"},
    "opinion_request": {
        "title": "text",
        "content": "textarea",
        "reviewer_ids": "users",
        "reviewer_agency_codes": "agencies",
        "deadline": "date",
    },
    "opinion_answer": {"answer": "radio", "comment": "textarea"},
    "opinion_consolidate": {"summary": "textarea"},
}

VALID = """
title: Thử
fields:
  - name: a
    label: A
    type: text
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(FormDefinitionError) as info:
        parse_form_definition(text, "t")
    return info.value.problems


# --- the shipped forms -----------------------------------------------------------------------------


def test_every_shipped_form_loads_and_validates(forms_dir: Path) -> None:
    forms = load_all_forms(forms_dir)
    assert set(forms) == {p.stem for p in forms_dir.glob("*.yaml")}
    assert set(CONTRACT) <= set(forms)


@pytest.mark.parametrize("key", sorted(CONTRACT))
def test_shipped_form_has_the_contract_fields(forms_dir: Path, key: str) -> None:
    defn = load_form(key, forms_dir)
    assert {f.name: f.type for f in defn.fields if f.name in CONTRACT[key]} == CONTRACT[key]
    assert defn.title


def test_shipped_forms_are_vietnamese_nfc_text(forms_dir: Path) -> None:
    for path in sorted(forms_dir.glob("*.yaml")):
        text = path.read_text("utf-8")
        assert unicodedata.is_normalized("NFC", text), path.name


def test_shipped_forms_survive_the_editor_roundtrip_unchanged(forms_dir: Path) -> None:
    for path in sorted(forms_dir.glob("*.yaml")):
        text = path.read_text("utf-8")
        assert format_yaml_roundtrip(text) == text, path.name


def test_contract_details_gateways_rely_on(forms_dir: Path) -> None:
    register = load_form("incoming_register", forms_dir)
    assert [(c.value, c.label) for c in register.field("urgency").choices] == [
        ("thuong", "Thường"),
        ("khan", "Khẩn"),
        ("thuong_khan", "Thượng khẩn"),
        ("hoa_toc", "Hỏa tốc"),
    ]
    specialist = load_form("incoming_assign_specialist", forms_dir).field("specialist_id")
    assert (specialist.source, specialist.filter_department_field) == ("staff", "lead_department_id")
    assert load_form("outgoing_draft", forms_dir).field("signer_id").source == "leaders"
    assert load_form("outgoing_draft", forms_dir).field("doc_type").source == "document_types"
    answer = load_form("opinion_answer", forms_dir)
    assert str(answer.field("comment").required_if) == "answer != agree"
    report = load_form("task_report", forms_dir)
    assert (report.field("percent").min, report.field("percent").max) == (0, 100)


# --- loading ---------------------------------------------------------------------------------------


def test_known_form_keys_lists_only_valid_keys(tmp_path: Path) -> None:
    (tmp_path / "good_one.yaml").write_text(VALID, "utf-8")
    (tmp_path / "Bad-Key.yaml").write_text(VALID, "utf-8")
    (tmp_path / "notes.txt").write_text("x", "utf-8")
    assert known_form_keys(tmp_path) == {"good_one"}
    assert known_form_keys(tmp_path / "missing") == set()


@pytest.mark.parametrize("key", ["../forms/incoming_assign", "/etc/passwd", "Incoming", "a/b", "", "a.b"])
def test_a_key_can_never_leave_the_forms_folder(forms_dir: Path, key: str) -> None:
    with pytest.raises(FormNotFoundError) as info:
        load_form(key, forms_dir)
    assert info.value.message == "Không tìm thấy biểu mẫu."


def test_missing_form_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(FormNotFoundError, match="«absent»"):
        load_form("absent", tmp_path)


def test_loaded_definitions_are_cached_by_content(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(VALID, "utf-8")
    first = load_form("f", tmp_path)
    assert load_form("f", tmp_path) is first
    path.write_text(VALID.replace("label: A", "label: Bê"), "utf-8")
    changed = load_form("f", tmp_path)
    assert changed.fields[0].label == "Bê"
    assert changed.version_hash != first.version_hash


def test_load_all_forms_reports_the_problems_of_every_file(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text(VALID.replace("type: text", "type: txt"), "utf-8")
    (tmp_path / "two.yaml").write_text("title: [", "utf-8")
    (tmp_path / "three.yaml").write_text(VALID, "utf-8")
    with pytest.raises(FormDefinitionError) as info:
        load_all_forms(tmp_path)
    assert info.value.message == "Biểu mẫu «one, two» không hợp lệ."
    problems = info.value.problems
    assert any(p.startswith("one.yaml: Trường «a»: kiểu «txt»") for p in problems)
    assert any(p.startswith("two.yaml: Lỗi cú pháp YAML") for p in problems)
    assert not any(p.startswith("three.yaml") for p in problems)


def test_non_utf8_file_is_a_named_problem(tmp_path: Path) -> None:
    (tmp_path / "latin.yaml").write_bytes("title: Thử\n".encode("utf-16"))
    with pytest.raises(FormDefinitionError) as info:
        load_form("latin", tmp_path)
    assert info.value.problems == ["Tệp không phải văn bản UTF-8."]


def test_size_limit() -> None:
    text = VALID + "#" + "x" * (200 * 1024)
    assert problems_of(text) == ["Tệp quá lớn (200 KB, tối đa 200 KB)."]


def test_parsed_definition_values() -> None:
    defn = parse_form_definition(
        """
title: "  Phân công  "
description: Mô tả
fields:
  - name: n
    label: Số
    type: integer
    min: 1
    max: 5
    default: 2
  - name: s
    label: Chọn
    type: select
    choices:
      - {value: 1, label: Một}
  - name: who
    label: Người
    type: users
  - name: d
    label: Ngày
    type: date
    default: 2025-01-31
    required_if: s == '1'
""",
        "k",
    )
    assert defn.key == "k"
    assert defn.title == "Phân công"
    assert len(defn.version_hash) == 64
    n, s, who, d = defn.fields
    assert (n.min, n.max, n.default) == (1, 5, 2)
    assert s.choices[0].value == "1"
    assert who.source == "staff" and who.is_multi
    assert d.default == "2025-01-31"
    assert d.required_if is not None
    assert (d.required_if.field, d.required_if.operator, d.required_if.value) == ("s", "==", "1")


def test_definition_text_is_stored_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Trích yếu")
    defn = parse_form_definition(VALID.replace("label: A", f"label: {nfd}").replace("Thử", nfd), "t")
    assert defn.title == "Trích yếu" and defn.fields[0].label == "Trích yếu"


# --- invalid definitions: every problem named ------------------------------------------------------


def test_all_problems_are_reported_at_once_naming_the_field() -> None:
    problems = problems_of(
        """
title: Hỏng
colour: red
fields:
  - name: a
    label: A
    type: dat
  - name: a
    label: A2
    type: text
  - name: Bad-Name
    label: B
    type: text
  - name: s
    label: S
    type: select
  - name: p
    label: P
    type: text
    pattern: "[a-"
  - name: n
    label: N
    type: integer
    min: 10
    max: 1
  - name: u
    label: U
    type: text
    colour: blue
"""
    )
    expected = [
        "Khóa «colour» không được hỗ trợ ở cấp biểu mẫu",
        "Trường «a»: kiểu «dat» không được hỗ trợ",
        "Trường «a»: tên bị trùng.",
        "Trường «Bad-Name»: tên không hợp lệ",
        "Trường «s»: kiểu «select» cần danh sách lựa chọn (choices) hoặc nguồn (source).",
        "Trường «p»: pattern «[a-» không phải biểu thức chính quy hợp lệ",
        "Trường «n»: min (10) lớn hơn max (1).",
        "Trường «u»: khóa «colour» không được hỗ trợ.",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert len(problems) == len(expected)


def test_error_message_names_the_form() -> None:
    with pytest.raises(FormDefinitionError) as info:
        parse_form_definition("title: X\nfields: []\n", "incoming_assign")
    assert info.value.message == "Biểu mẫu «incoming_assign» không hợp lệ."
    assert info.value.problems == ["Biểu mẫu phải có danh sách trường (fields) không rỗng."]
    assert "không rỗng" in str(info.value)


def test_yaml_syntax_error_gives_the_line() -> None:
    problems = problems_of("title: X\nfields:\n  - name: a\n    label: [unclosed\n    type: text\n")
    assert len(problems) == 1
    assert re.match(r"Lỗi cú pháp YAML ở dòng [45], cột \d+: ", problems[0]), problems


def test_duplicate_yaml_key_is_a_syntax_problem_with_line() -> None:
    problems = problems_of("title: X\ntitle: Y\nfields: []\n")
    assert problems[0].startswith("Lỗi cú pháp YAML ở dòng 2")


@pytest.mark.parametrize(
    ("snippet", "problem"),
    [
        ("    type: text\n    min: 1", "Trường «f»: min/max chỉ dùng cho kiểu integer."),
        ("    type: integer\n    min: x", "Trường «f»: «min» phải là số nguyên."),
        (
            "    type: text\n    min_length: 5\n    max_length: 2",
            "Trường «f»: min_length (5) lớn hơn max_length (2).",
        ),
        (
            "    type: integer\n    max_length: 3",
            "Trường «f»: min_length/max_length chỉ dùng cho kiểu text, textarea, email.",
        ),
        ("    type: text\n    required: yes", "Trường «f»: «required» phải là true hoặc false."),
        ("    type: select\n    source: planets", "Trường «f»: nguồn lựa chọn «planets» không tồn tại"),
        (
            "    type: text\n    choices: [{value: a, label: A}]",
            "Trường «f»: kiểu «text» không dùng choices/source.",
        ),
        (
            "    type: select\n    source: staff\n    choices: [{value: a, label: A}]",
            "Trường «f»: chỉ khai báo một trong hai: choices hoặc source.",
        ),
        ("    type: select\n    choices: [{value: a}]", "Trường «f»: lựa chọn «a» thiếu nhãn (label)."),
        (
            "    type: radio\n    choices: [{value: a, label: A}, {value: a, label: B}]",
            "Trường «f»: lựa chọn «a» bị trùng.",
        ),
        (
            "    type: department\n    filter_department_field: x",
            "Trường «f»: filter_department_field chỉ dùng",
        ),
        ("    type: text\n    required_if: a = b", "Trường «f»: required_if «a = b» không hợp lệ"),
        (
            "    type: text\n    required_if: ghost",
            "Trường «f»: required_if tham chiếu trường «ghost» không có",
        ),
        ("    type: text\n    required_if: f", "Trường «f»: required_if không được tham chiếu chính nó."),
        (
            "    type: integer\n    default: nhiều",
            "Trường «f»: giá trị mặc định «nhiều» không hợp với kiểu «integer».",
        ),
        (
            "    type: select\n    choices: [{value: a, label: A}]\n    default: b",
            "Trường «f»: giá trị mặc định «b»",
        ),
        ("    type: date\n    default: 31/02/2025", "Trường «f»: giá trị mặc định «31/02/2025»"),
        ("    type: text\n    pattern: '" + "a" * 301 + "'", "Trường «f»: pattern dài quá 300 ký tự."),
    ],
)
def test_invalid_field_is_named(snippet: str, problem: str) -> None:
    problems = problems_of(f"title: X\nfields:\n  - name: f\n    label: F\n{snippet}\n")
    assert any(p.startswith(problem) for p in problems), problems


@pytest.mark.parametrize("name", ["data", "errors", "meta", "validate", "csrf_token"])
def test_names_reserved_by_the_form_object_are_refused(name: str) -> None:
    problems = problems_of(f"title: X\nfields:\n  - name: {name}\n    label: F\n    type: text\n")
    assert problems == [f"Trường «{name}»: tên «{name}» được hệ thống dành riêng, hãy đặt tên khác."]


def test_field_without_name_label_or_type() -> None:
    problems = problems_of("title: X\nfields:\n  - label: F\n  - name: g\n  - just a string\n")
    assert "Trường thứ 1: thiếu tên (name)." in problems
    assert "Trường «g»: thiếu nhãn (label)." in problems
    assert "Trường «g»: thiếu kiểu (type)." in problems
    assert any(p.startswith("Trường thứ 3: phải là một bảng") for p in problems)


def test_document_must_be_a_mapping_with_a_title() -> None:
    assert problems_of("- a\n- b\n")[0].startswith("Tệp phải là một bảng khóa–giá trị")
    assert "Biểu mẫu: thiếu tiêu đề (title)." in problems_of("fields:\n  - {name: a, label: A, type: text}\n")


def test_bad_form_key_is_refused() -> None:
    with pytest.raises(FormDefinitionError) as info:
        parse_form_definition(VALID, "Bad Key")
    assert info.value.problems[0].startswith("Mã biểu mẫu «Bad Key»")


# --- round trip for the editor --------------------------------------------------------------------


def test_roundtrip_keeps_comments_order_and_quotes() -> None:
    text = (
        "# Biểu mẫu thử — chú thích đầu tệp\n"
        "title: 'Phân công'  # chú thích cuối dòng\n"
        "fields:\n"
        "  # chú thích trước trường\n"
        "  - name: z\n"
        "    type: text\n"
        "    label: Zê\n"
        "  - name: a\n"
        "    label: A\n"
        "    type: date\n"
    )
    assert format_yaml_roundtrip(text) == text


def test_roundtrip_reports_syntax_errors() -> None:
    with pytest.raises(FormDefinitionError) as info:
        format_yaml_roundtrip("title: [\n")
    assert info.value.problems[0].startswith("Lỗi cú pháp YAML")


def test_reserved_names_cover_every_attribute_of_the_form_object() -> None:
    from app.forms.build import DynamicForm
    from app.forms.definitions import FIELD_NAME_RE, RESERVED_NAMES

    attributes = {n for n in dir(DynamicForm) if FIELD_NAME_RE.match(n)}
    assert attributes <= RESERVED_NAMES
