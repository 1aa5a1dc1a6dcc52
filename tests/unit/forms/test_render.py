from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask, request
from werkzeug.datastructures import MultiDict

from app.forms import (
    build_form,
    load_form,
    render_form,
    render_preview,
    render_readonly,
    validate_submission,
)
from app.forms.build import MSG_CSRF, MSG_REQUIRED

HOSTILE = """
title: "<script>alert('t')</script>"
description: "<b>mô tả</b>"
fields:
  - name: t
    label: "<script>alert(1)</script>"
    type: text
    help: "<img src=x onerror=alert(2)>"
    placeholder: '"><script>alert(3)</script>'
  - name: s
    label: Chọn
    type: select
    choices:
      - value: "\\"><script>alert(4)</script>"
        label: "<i>Một</i>"
"""


def group_of(html: str, name: str) -> str:
    """The markup of one field's form-group (from its opening div to the next group)."""
    match = re.search(rf'<div class="form-group[^"]*" id="qf-{name}-group">(.*?)\n</div>', html, re.S)
    assert match, name
    return match.group(0)


def test_errors_are_shown_next_to_their_field(forms_dir: Path, submit) -> None:
    defn, form = submit(load_form("task_report", forms_dir), {"percent": "120", "request_extension": "y"})
    html = str(render_form(defn, form, action="/tasks/5/complete"))
    percent = group_of(html, "percent")
    assert 'class="form-group has-error"' in percent
    assert (
        '<span class="help-block invalid-feedback" id="qf-percent-error">Phải từ 0 đến 100.</span>' in percent
    )
    assert 'value="120"' in percent and "is-invalid" in percent and 'aria-invalid="true"' in percent
    deadline = group_of(html, "new_deadline")
    assert MSG_REQUIRED in deadline and "has-error" in deadline
    note = group_of(html, "note")
    assert "has-error" not in note and "invalid-feedback" not in note
    assert 'action="/tasks/5/complete"' in html and 'method="post"' in html
    assert "Biểu mẫu còn lỗi, vui lòng kiểm tra các trường được đánh dấu." in html


def test_required_star_help_and_checked_state(forms_dir: Path, submit) -> None:
    defn, form = submit(load_form("incoming_process", forms_dir), {"result": "Xong", "request_reply": "y"})
    html = str(render_form(defn, form))
    result = group_of(html, "result")
    assert 'Kết quả xử lý <span class="text-danger" aria-hidden="true" title="Bắt buộc">*</span>' in result
    assert ">Xong</textarea>" in result
    reply = group_of(html, "request_reply")
    assert 'type="checkbox"' in reply and " checked" in reply and "text-danger" not in reply
    summary = group_of(html, "reply_summary")
    assert 'id="qf-reply_summary-help">Bắt buộc khi cần dự thảo văn bản trả lời.</p>' in summary
    assert "action=" not in html  # posts back to the page's own URL


def test_choices_render_with_the_current_selection(forms_dir: Path, provider, submit) -> None:
    defn, form = submit(
        load_form("incoming_assign", forms_dir),
        MultiDict(
            [("lead_department_id", "2"), ("coordinating_department_ids", "1"), ("deadline", "2025-02-03")]
        ),
    )
    html = str(render_form(defn, form))
    lead = group_of(html, "lead_department_id")
    assert '<option value="2" selected>Phòng Kế hoạch – Tài chính</option>' in lead
    assert '<option value="">— Chọn —</option>' in lead
    coordinating = group_of(html, "coordinating_department_ids")
    assert (
        '<input type="checkbox" name="coordinating_department_ids" value="1" checked> Văn phòng'
        in coordinating
    )
    assert 'value="2"> Phòng Kế hoạch' in coordinating
    assert 'value="03/02/2025"' in group_of(html, "deadline")  # shown back as dd/mm/yyyy


def test_radio_buttons(forms_dir: Path, submit) -> None:
    defn, form = submit(load_form("opinion_answer", forms_dir), {"answer": "agree_with_comments"})
    answer = group_of(str(render_form(defn, form)), "answer")
    assert '<input type="radio" name="answer" value="agree_with_comments" checked> Đồng ý có ý kiến' in answer
    assert '<input type="radio" name="answer" value="disagree"> Không đồng ý' in answer


def test_hostile_labels_and_values_are_escaped(provider, submit) -> None:
    defn, form = submit(HOSTILE, {"t": '"><script>alert(5)</script>', "s": "<script>"})
    html = str(render_form(defn, form, action='/x"><script>alert(6)</script>'))
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(5)&lt;/script&gt;"' in html
    assert "Giá trị không hợp lệ." in group_of(html, "s")
    readonly = str(render_readonly(defn, {"t": "<script>x</script>", "s": "<b>"}, choices=provider))
    assert "<script" not in readonly and "<b>" not in readonly and "&lt;script&gt;x" in readonly
    preview = str(render_preview(defn))
    assert "<script" not in preview


def test_readonly_shows_choice_labels(forms_dir: Path, provider) -> None:
    defn = load_form("incoming_assign", forms_dir)
    html = str(
        render_readonly(
            defn,
            {
                "lead_department_id": "2",
                "coordinating_department_ids": ["1", "77"],
                "deadline": "2025-02-03",
                "direction": "Dòng 1\nDòng 2",
            },
            choices=provider,
        )
    )
    assert '<th scope="row">Đơn vị chủ trì</th>\n  <td>Phòng Kế hoạch – Tài chính</td>' in html
    assert "<td>Văn phòng<br>77</td>" in html  # an id no longer offered still shows
    assert "<td>03/02/2025</td>" in html
    assert "<td>Dòng 1<br>Dòng 2</td>" in html
    assert "<caption>Phân công xử lý văn bản đến</caption>" in html


def test_readonly_static_choices_booleans_and_empty(forms_dir: Path, provider) -> None:
    html = str(render_readonly(load_form("task_report", forms_dir), {"percent": 40}, choices=provider))
    assert "<td>40</td>" in html
    assert "<td>Không</td>" in html  # request_extension unticked
    assert '<td><span class="text-muted">—</span></td>' in html
    urgency = str(
        render_readonly(load_form("incoming_register", forms_dir), {"urgency": "hoa_toc"}, choices=provider)
    )
    assert "<td>Hỏa tốc</td>" in urgency and "hoa_toc" not in urgency


def test_readonly_asks_choices_with_the_submitted_data_as_context(forms_dir: Path, provider) -> None:
    defn = load_form("incoming_assign_specialist", forms_dir)
    render_readonly(defn, {"specialist_id": "10"}, choices=provider, context={"lead_department_id": "1"})
    assert provider.calls == [("staff", "specialist_id", {"lead_department_id": "1", "specialist_id": "10"})]


def test_preview_cannot_be_submitted(forms_dir: Path) -> None:
    html = str(render_preview(load_form("outgoing_draft", forms_dir)))
    assert "<fieldset disabled>" in html
    assert 'method="post"' not in html and 'type="submit"' not in html
    assert "Lựa chọn mẫu 1" in html  # sample choices for the dynamic sources
    assert "csrf_token" not in html


def test_every_shipped_form_renders(forms_dir: Path, provider) -> None:
    for path in sorted(forms_dir.glob("*.yaml")):
        defn = load_form(path.stem, forms_dir)
        html = str(render_form(defn, build_form(defn, choices=provider, csrf=False)))
        for field in defn.fields:
            assert f'name="{field.name}"' in html, (path.stem, field.name)
        assert str(render_preview(defn))


# --- CSRF through Flask-WTF ------------------------------------------------------------------------


@pytest.fixture
def csrf_app(forms_dir: Path, provider) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k" * 32, TESTING=True)
    defn = load_form("incoming_confirm", forms_dir)

    @app.route("/confirm", methods=["GET", "POST"])
    def confirm() -> tuple[str, int] | str:
        formdata = request.form if request.method == "POST" else None
        form = build_form(defn, choices=provider, formdata=formdata)
        if request.method == "POST":
            if form.validate():
                return "OK " + validate_submission(defn, form)["decision"]
            return str(render_form(defn, form)), 422
        return str(render_form(defn, form))

    return app


def test_csrf_token_is_rendered_and_required(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    page = client.get("/confirm").get_data(as_text=True)
    token = re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)">', page)
    assert token

    refused = client.post("/confirm", data={"decision": "complete"})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert f'<div class="alert alert-danger" role="alert">{MSG_CSRF}</div>' in body
    assert "CSRF" not in body

    forged = client.post("/confirm", data={"decision": "complete", "csrf_token": "forged"})
    assert forged.status_code == 422

    accepted = client.post("/confirm", data={"decision": "complete", "csrf_token": token.group(1)})
    assert accepted.get_data(as_text=True) == "OK complete"
