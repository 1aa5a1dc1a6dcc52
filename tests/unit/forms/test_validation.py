from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage, MultiDict

from app.core import clock
from app.core.errors import ValidationError
from app.forms import build_form, cleaned_data, load_form, uploaded_files, validate_submission
from app.forms.build import MSG_DATE, MSG_INVALID, MSG_REQUIRED

KINDS = """
title: Đủ loại
fields:
  - name: text
    label: Văn bản
    type: text
    required: true
    min_length: 3
    max_length: 10
  - name: code
    label: Mã
    type: text
    pattern: "[A-Z]{2}-\\\\d+"
    pattern_message: Mã dạng AB-123.
  - name: mail
    label: Thư điện tử
    type: email
  - name: n
    label: Số
    type: integer
    min: 1
    max: 5
  - name: day
    label: Ngày
    type: date
  - name: at
    label: Lúc
    type: datetime
  - name: pick
    label: Chọn
    type: select
    choices:
      - {value: a, label: Một}
      - {value: b, label: Hai}
  - name: many
    label: Nhiều
    type: multiselect
    choices:
      - {value: a, label: Một}
      - {value: b, label: Hai}
  - name: ok
    label: Đồng ý
    type: checkbox
  - name: dept
    label: Đơn vị
    type: department
  - name: people
    label: Người
    type: users
"""


def test_valid_submission_gives_json_ready_values(submit) -> None:
    defn, form = submit(
        KINDS,
        [
            ("text", "  Abc  "),
            ("code", "AB-12"),
            ("mail", "a@vinhphuc.gov.vn"),
            ("n", "5"),
            ("day", "31/12/2025"),
            ("at", "2025-12-31T08:30"),
            ("pick", "b"),
            ("many", "a"),
            ("many", "b"),
            ("many", "a"),
            ("ok", "y"),
            ("dept", "2"),
            ("people", "10"),
        ],
    )
    assert form.errors == {}
    data = cleaned_data(defn, form)
    assert data == {
        "text": "Abc",
        "code": "AB-12",
        "mail": "a@vinhphuc.gov.vn",
        "n": 5,
        "day": "2025-12-31",
        "at": "2025-12-31T08:30",
        "pick": "b",
        "many": ["a", "b"],
        "ok": True,
        "dept": "2",
        "people": ["10"],
    }
    assert json.loads(json.dumps(data)) == data


def test_empty_optional_fields_come_out_empty(submit) -> None:
    defn, form = submit(KINDS, {"text": "abc"})
    assert form.errors == {}
    data = cleaned_data(defn, form)
    assert data["n"] is None and data["day"] is None and data["pick"] is None
    assert data["many"] == [] and data["ok"] is False and data["code"] is None


def test_vietnamese_messages(submit) -> None:
    _, form = submit(
        KINDS,
        {
            "text": "ab",
            "code": "ab-1",
            "mail": "không phải thư",
            "n": "9",
            "day": "31/02/2025",
            "at": "hôm qua",
            "pick": "z",
            "many": "z",
            "dept": "999",
            "people": "20",  # a leader, but the staff list does not offer it
        },
    )
    assert form.errors == {
        "text": ["Phải có từ 3 đến 10 ký tự."],
        "code": ["Mã dạng AB-123."],
        "mail": ["Địa chỉ email không hợp lệ."],
        "n": ["Phải từ 1 đến 5."],
        "day": [MSG_DATE],
        "at": ["Thời điểm không hợp lệ (dd/mm/yyyy hh:mm)."],
        "pick": [MSG_INVALID],
        "many": [MSG_INVALID],
        "dept": [MSG_INVALID],
        "people": [MSG_INVALID],
    }


def test_required_and_integer_messages(submit) -> None:
    _, form = submit(KINDS, {"text": "   ", "n": "ba"})
    assert form.errors == {"text": [MSG_REQUIRED], "n": ["Phải là số nguyên."]}


@pytest.mark.parametrize(
    ("bounds", "value", "message"),
    [
        ("min: 1", "0", "Phải lớn hơn hoặc bằng 1."),
        ("max: 3", "4", "Phải nhỏ hơn hoặc bằng 3."),
        ("min: -2\n    max: 2", "-3", "Phải từ -2 đến 2."),
    ],
)
def test_one_sided_ranges(submit, bounds: str, value: str, message: str) -> None:
    _, form = submit(
        f"title: X\nfields:\n  - name: n\n    label: N\n    type: integer\n    {bounds}\n", {"n": value}
    )
    assert form.errors == {"n": [message]}


def test_length_messages_and_hard_cap(submit) -> None:
    text = (
        "title: X\nfields:\n  - {name: a, label: A, type: text, min_length: 2}\n"
        "  - {name: b, label: B, type: text}\n"
    )
    _, form = submit(text, {"a": "x", "b": "y" * 1001})
    assert form.errors == {"a": ["Phải có ít nhất 2 ký tự."], "b": ["Không được quá 1000 ký tự."]}


def test_pattern_without_message_and_full_match(submit) -> None:
    _, form = submit(
        'title: X\nfields:\n  - {name: a, label: A, type: text, pattern: "\\\\d+"}\n', {"a": "12a"}
    )
    assert form.errors == {"a": ["Giá trị không đúng định dạng."]}


@pytest.mark.parametrize("raw", ["31/12/2025", "2025-12-31", "31-12-2025"])
def test_date_input_formats(submit, raw: str) -> None:
    defn, form = submit(KINDS, {"text": "abc", "day": raw})
    assert form.errors == {}
    assert cleaned_data(defn, form)["day"] == "2025-12-31"


def test_required_checkbox_must_be_ticked(submit) -> None:
    _, form = submit(
        "title: X\nfields:\n  - {name: c, label: C, type: checkbox, required: true}\n", {"c": "false"}
    )
    assert form.errors == {"c": [MSG_REQUIRED]}


def test_nfd_input_comes_out_nfc(submit) -> None:
    nfd = unicodedata.normalize("NFD", "Quyết định về việc hỗ trợ")
    assert nfd != "Quyết định về việc hỗ trợ"
    defn, form = submit(KINDS, {"text": unicodedata.normalize("NFD", "Đề án"), "pick": "a"})
    assert form.errors == {}
    assert cleaned_data(defn, form)["text"] == "Đề án"
    _, long_form = submit(
        "title: X\nfields:\n  - {name: t, label: T, type: textarea, max_length: 25}\n", {"t": nfd}
    )
    # NFD "Quyết định về việc hỗ trợ" is 34 code points, NFC 25: the limit counts what is stored.
    assert long_form.errors == {}


def test_required_if_truthy_checkbox(forms_dir: Path, submit) -> None:
    defn = load_form("task_report", forms_dir)
    _, form = submit(defn, {"percent": "50", "request_extension": "y"})
    assert form.errors == {"new_deadline": [MSG_REQUIRED]}
    _, form = submit(defn, {"percent": "50"})
    assert form.errors == {}
    _, form = submit(defn, {"percent": "101", "request_extension": "y", "new_deadline": "2026-01-15"})
    assert form.errors == {"percent": ["Phải từ 0 đến 100."]}
    _, form = submit(defn, {"percent": "100", "request_extension": "y", "new_deadline": "15/01/2026"})
    assert cleaned_data(defn, form) == {
        "percent": 100,
        "note": None,
        "request_extension": True,
        "new_deadline": "2026-01-15",
    }


def test_required_if_not_equal(forms_dir: Path, submit) -> None:
    defn = load_form("opinion_answer", forms_dir)
    assert submit(defn, {"answer": "agree"})[1].errors == {}
    assert submit(defn, {"answer": "disagree"})[1].errors == {"comment": [MSG_REQUIRED]}
    assert submit(defn, {"answer": "agree_with_comments", "comment": "Sửa điều 3."})[1].errors == {}
    # No answer yet: only the answer is asked for, not a comment that depends on it.
    assert submit(defn, {})[1].errors == {"answer": [MSG_REQUIRED]}


def test_required_if_equal(forms_dir: Path, submit) -> None:
    defn = load_form("outgoing_review", forms_dir)
    assert submit(defn, {"decision": "return"})[1].errors == {"comment": [MSG_REQUIRED]}
    assert submit(defn, {"decision": "approve"})[1].errors == {}
    assert submit(defn, {"decision": "publish"})[1].errors == {"decision": [MSG_INVALID]}


def test_dynamic_choices_come_from_the_provider_with_context(forms_dir: Path, provider, submit) -> None:
    defn = load_form("incoming_assign_specialist", forms_dir)
    _, form = submit(defn, {"specialist_id": "11"}, context={"lead_department_id": "2"})
    assert form.errors == {}
    assert provider.calls == [("staff", "specialist_id", {"lead_department_id": "2"})]


def test_defaults_and_prefilled_data(forms_dir: Path, provider) -> None:
    import datetime as dt

    clock.freeze(dt.datetime(2025, 6, 30, 20, 0, tzinfo=dt.UTC))  # already 1 July in Vietnam
    try:
        issue = build_form(load_form("outgoing_issue", forms_dir), choices=provider, csrf=False)
        assert issue.issue_date.data == dt.date(2025, 7, 1)
    finally:
        clock.freeze(None)
    register = load_form("incoming_register", forms_dir)
    form = build_form(register, choices=provider, csrf=False, data={"summary": "Đã có"})
    assert (form.urgency.data, form.summary.data) == ("thuong", "Đã có")
    cleaned = cleaned_data(register, form)
    assert (cleaned["summary"], cleaned["urgency"], cleaned["confidentiality"], cleaned["note"]) == (
        "Đã có", "thuong", "thuong", None)


def test_readonly_field_ignores_what_the_browser_sent(provider) -> None:
    from app.forms import parse_form_definition

    defn = parse_form_definition(
        "title: X\nfields:\n  - {name: no, label: Số, type: text, readonly: true}\n"
        "  - {name: t, label: T, type: text}\n",
        "x",
    )
    form = build_form(
        defn, choices=provider, csrf=False, data={"no": "12/UBND"}, formdata=MultiDict({"no": "99", "t": "a"})
    )
    assert form.validate()
    assert cleaned_data(defn, form) == {"no": "12/UBND", "t": "a"}


def test_validate_submission_raises_domain_validation_error(forms_dir: Path, submit) -> None:
    defn, form = submit(load_form("incoming_confirm", forms_dir), {})
    with pytest.raises(ValidationError) as info:
        validate_submission(defn, form)
    assert info.value.field_errors == {"decision": [MSG_REQUIRED]}
    assert info.value.message == "Biểu mẫu còn lỗi, vui lòng kiểm tra các trường được đánh dấu."
    _, ok = submit(defn, {"decision": "complete"})
    assert validate_submission(defn, ok) == {"decision": "complete", "comment": None}


def test_file_fields(provider) -> None:
    import io

    from app.forms import parse_form_definition

    defn = parse_form_definition(
        "title: X\nfields:\n  - {name: att, label: Đính kèm, type: file, required: true}\n", "x"
    )
    assert defn.has_files
    empty = build_form(
        defn, choices=provider, csrf=False, formdata=MultiDict({"att": FileStorage(filename="")})
    )
    assert not empty.validate()
    assert empty.errors == {"att": [MSG_REQUIRED]}
    upload = FileStorage(stream=io.BytesIO(b"%PDF"), filename="cv.pdf")
    form = build_form(defn, choices=provider, csrf=False, formdata=MultiDict([("att", upload)]))
    assert form.validate()
    assert cleaned_data(defn, form) == {}
    assert uploaded_files(defn, form) == {"att": [upload]}


def test_no_english_message_from_wtforms(submit, forms_dir: Path) -> None:
    for key in ("outgoing_draft", "task_report", "opinion_request", "outgoing_issue"):
        defn = load_form(key, forms_dir)
        _, form = submit(defn, {f.name: "???" for f in defn.fields})
        for messages in form.errors.values():
            for message in messages:
                assert message.isascii() is False, (key, message)
