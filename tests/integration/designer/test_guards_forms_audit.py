"""Unsafe conditions, org-change protection, versioned forms and the design log."""

from __future__ import annotations

import json
from html import unescape
from typing import Any

import pytest
from sqlalchemy import select

from app.core.errors import RefusedError, ValidationError
from app.designer import diagrams, org_guard
from app.designer import forms as form_store
from app.designer.models import DesignChange
from app.extensions import db
from app.forms import FormDefinitionError
from app.tenancy.models import Department, Position
from app.workflow.errors import DiagramInvalidError
from tests.integration.designer.conftest import ROOT, template


@pytest.mark.parametrize("condition", ["__import__('os').system('id')", "().__class__.__mro__",
                                        "(lambda: 1)()", "[x for x in ().__class__.__bases__]"])
def test_unsafe_conditions_are_refused_on_save_and_publish(agency_admin: Any, ctx: Any, condition: str) -> None:
    owner, by = agency_admin.agency.id, agency_admin.admin.user_id
    xml = template("incoming").replace('decision == "send_back"', condition.replace('"', "&quot;"))
    result = diagrams.save(owner, "incoming", xml, by_user_id=by, ctx=ctx)
    (problem,) = result.problems
    assert problem.element_id == "Flow_send_back" and "Điều kiện không hợp lệ" in problem.message_vi
    with pytest.raises(DiagramInvalidError):
        diagrams.publish(owner, "incoming", "thử", by_user_id=by, ctx=ctx)
    db.session.rollback()
    with pytest.raises(ValidationError, match="Điều kiện không hợp lệ"):
        diagrams.check_condition(condition)


def test_condition_check_endpoint_speaks_vietnamese(agency_admin: Any) -> None:
    page = agency_admin.client.get("/designer/process/incoming/").get_data(as_text=True)
    assert 'id="qlvb-modeler"' in page and "dist/modeler.js" in page and "cdn" not in page.lower()
    from tests.support.web import csrf_token

    token = csrf_token(page) if 'name="csrf_token"' in page else None
    headers = {"X-CSRFToken": token, "Accept": "application/json"}
    ok = agency_admin.client.post("/designer/process/incoming/check", json={"expression": 'decision == "return"'},
                                  headers=headers).get_json()
    bad = agency_admin.client.post("/designer/process/incoming/check", json={"expression": "__import__('os')"},
                                   headers=headers).get_json()
    assert ok == {"ok": True, "message": "Điều kiện hợp lệ"}
    assert bad["ok"] is False and bad["message"].startswith("Điều kiện không hợp lệ")


def _with_fixed_department(xml: str, code: str) -> str:
    return xml.replace('<spiffworkflow:property name="formKey" value="incoming_assign" />',
                       '<spiffworkflow:property name="formKey" value="incoming_assign" />'
                       f'<spiffworkflow:property name="candidateDepartment" value="{code}" />')


def test_department_used_by_published_diagram_cannot_be_renamed_or_deactivated(agency_admin: Any, ctx: Any) -> None:
    owner, by = agency_admin.agency.id, agency_admin.admin.user_id
    diagrams.save(owner, "incoming", _with_fixed_department(template("incoming"), "nv"), by_user_id=by, ctx=ctx)
    diagrams.publish(owner, "incoming", "Phân công cố định cho phòng Nghiệp vụ", by_user_id=by, ctx=ctx)
    db.session.commit()
    dept = db.session.scalar(select(Department).where(Department.agency_id == owner, Department.code == "nv"))
    dept.code = "nghiep_vu"
    with pytest.raises(RefusedError) as refused:
        org_guard.guard_and_record(dept, "update", actor_id=by)
    assert "Không thể đổi mã phòng ban “Phòng Nghiệp vụ” (mã nv)" in refused.value.message
    assert "“Xử lý văn bản đến” (phiên bản của cơ quan số 1)" in refused.value.message
    assert "bước “Phân công xử lý”" in refused.value.message
    db.session.rollback()
    # Through the admin page: the same rename is refused with the explanation, nothing changes.
    resp = agency_admin.client.form_post(
        f"/departmentadminview/edit/{dept.id}", {"code": "nghiep_vu", "name": "Phòng Nghiệp vụ", "abbreviation": "NV",
                                               "sort_order": "1", "active": "y"})
    assert resp.status_code in (200, 302)
    page = resp.get_data(as_text=True) + agency_admin.client.get("/departmentadminview/list/").get_data(as_text=True)
    assert "Không thể đổi mã phòng ban “Phòng Nghiệp vụ” (mã nv)" in unescape(page)
    db.session.expire_all()
    assert db.session.get(Department, dept.id).code == "nv"
    dept = db.session.get(Department, dept.id)
    dept.active = False
    with pytest.raises(RefusedError, match="Không thể ngừng hoạt động phòng ban"):
        org_guard.guard_and_record(dept, "update", actor_id=by)
    db.session.rollback()
    # An unused department may change, and the change is logged with before and after.
    other = db.session.scalar(select(Department).where(Department.agency_id == owner, Department.code == "vp"))
    other.name = "Văn phòng Sở"
    org_guard.guard_and_record(other, "update", actor_id=by)
    db.session.commit()
    change = db.session.scalar(select(DesignChange).where(DesignChange.agency_id == owner,
                                                          DesignChange.area == "department"))
    assert change.before["name"] == "Văn phòng" and change.after["name"] == "Văn phòng Sở"


def test_last_position_carrying_a_lane_role_cannot_be_deleted(agency_admin: Any, ctx: Any) -> None:
    owner, by = agency_admin.agency.id, agency_admin.admin.user_id
    leader = db.session.scalar(select(Position).where(Position.agency_id == owner, Position.role == "leader"))
    with pytest.raises(RefusedError) as refused:
        org_guard.guard_and_record(leader, "delete", actor_id=by)
    assert "chức vụ duy nhất mang vai trò “Lãnh đạo cơ quan”" in refused.value.message
    assert "mẫu của Sở TTTT" in refused.value.message and "“Phân công xử lý”" in refused.value.message
    db.session.rollback()
    db.session.add(Position(agency_id=owner, code="pgd", name="Phó Giám đốc", role="leader", sort_order=2))
    db.session.flush()
    org_guard.guard_and_record(leader, "delete", actor_id=by)  # another position still carries the role
    db.session.rollback()


SAMPLE = """# Ghi chú của cơ quan: giữ nguyên khi lưu
title: Vào sổ văn bản đến (bản của cơ quan)
fields:
  - name: summary   # trích yếu
    label: Trích yếu
    type: textarea
    required: true
"""


def test_form_versions_win_for_their_agency_and_keep_comments(agency_admin: Any, make_agency: Any,
                                                              app: Any) -> None:
    owner, by, forms_dir = agency_admin.agency.id, agency_admin.admin.user_id, app.config["QLVB_FORMS_DIR"]
    with pytest.raises(FormDefinitionError) as bad:
        form_store.publish_form(owner, "incoming_register", "title: X\nfields:\n  - name: a\n    type: nope\n",
                                "thử", by_user_id=by, forms_dir=forms_dir)
    assert bad.value.problems
    version = form_store.publish_form(owner, "incoming_register", SAMPLE, "Rút gọn biểu mẫu", by_user_id=by,
                                      forms_dir=forms_dir)
    db.session.commit()
    assert version.number == 1
    mine = form_store.effective_source(owner, "incoming_register", forms_dir)
    assert mine.source == "agency" and "# Ghi chú của cơ quan" in mine.yaml_text and "# trích yếu" in mine.yaml_text
    assert form_store.effective_form(owner, "incoming_register", forms_dir).title.endswith("(bản của cơ quan)")
    other = make_agency()
    shipped = (ROOT / "forms" / "incoming_register.yaml").read_text(encoding="utf-8")
    theirs = form_store.effective_source(other.id, "incoming_register", forms_dir)
    assert theirs.source in ("file", "shipped") and (theirs.source == "shipped" or theirs.yaml_text == shipped)
    with pytest.raises(ValidationError, match="không có thay đổi"):
        form_store.publish_form(owner, "incoming_register", SAMPLE, "lần nữa", by_user_id=by, forms_dir=forms_dir)


def test_form_editor_preview_and_publish_over_http(agency_admin: Any) -> None:
    client = agency_admin.client
    page = client.get("/form-editor/form/incoming_process/").get_data(as_text=True)
    assert "Xử lý văn bản đến" in page and "# Chuyên viên báo cáo" in page
    from tests.support.web import csrf_token

    headers = {"X-CSRFToken": csrf_token(page), "Accept": "application/json"}
    ok = client.post("/form-editor/form/incoming_process/preview", json={"yaml": SAMPLE}, headers=headers).get_json()
    assert ok["ok"] and "Trích yếu" in ok["html"]
    bad = client.post("/form-editor/form/incoming_process/preview", json={"yaml": "title: [x"},
                      headers=headers).get_json()
    assert bad["ok"] is False and "Lỗi cú pháp YAML" in " ".join(bad["problems"])
    resp = client.form_post("/form-editor/form/incoming_process/publish", {"yaml": SAMPLE, "note": "Bản rút gọn"},
                            from_page="/form-editor/form/incoming_process/")
    assert resp.status_code == 302
    audit = client.get("/design-audit/?area=form").get_data(as_text=True)
    assert "Biểu mẫu «Vào sổ văn bản đến (bản của cơ quan)» phiên bản số 1: Bản rút gọn" in audit
    assert "Trần Quản Trị" in audit


def test_pages_render_for_admin_and_are_closed_to_clerks(agency_admin: Any, logged_in: Any) -> None:
    for path in ("/designer/", "/designer/process/incoming/", "/designer/process/incoming/versions",
                 "/designer/process/incoming/import", "/form-editor/", "/design-audit/"):
        resp = agency_admin.client.get(path)
        assert resp.status_code == 200, path
    xml = agency_admin.client.get("/designer/process/incoming/xml")
    assert xml.mimetype == "application/xml" and b"<bpmn:definitions" in xml.data
    clerk = logged_in(agency_admin.clerk)
    assert clerk.get("/designer/").status_code in (302, 403)
    denied = clerk.post("/designer/process/incoming/save", data=json.dumps({"xml": "<x/>"}),
                        content_type="application/json")
    assert denied.status_code in (302, 400, 403)
