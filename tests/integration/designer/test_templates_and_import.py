"""SoICT templates and their adoption; importing diagrams from other modelers (valid and refused)."""

from __future__ import annotations

from html import unescape
from io import BytesIO
from typing import Any

from sqlalchemy import func, select

from app.designer import diagrams
from app.extensions import db
from app.workflow import services
from app.workflow.models import ProcessVersion
from tests.integration.designer.conftest import FIXTURES, template, with_check_step


def _overview(owner: int, key: str) -> Any:
    return next(p for p in diagrams.overview(owner) if p.key == key)


def _count(owner: int) -> int:
    return db.session.scalar(select(func.count()).select_from(ProcessVersion).where(ProcessVersion.agency_id == owner))


def test_agency_follows_newest_template_until_it_has_its_own_then_adopts(agency_admin: Any, ctx: Any) -> None:
    owner, by = agency_admin.agency.id, agency_admin.admin.user_id
    key = "opinion_request"
    before = _overview(owner, key)
    assert before.follows_template and not before.newer_template
    # SoICT publishes a new template on the central domain: an agency without its own version follows it.
    diagrams.save(None, key, template(key).replace('name="', 'name="Mẫu mới: ', 1), by_user_id=None, ctx=ctx)
    new_template = diagrams.publish(None, key, "Mẫu mới của Sở TTTT", by_user_id=None, ctx=ctx)
    db.session.commit()
    assert services.current_version(owner, key).id == new_template.id
    # The agency edits what the modeler opens (the newest template) into its own version.
    opened, _ = diagrams.editable_xml(owner, key)
    diagrams.save(owner, key, opened.replace("Mẫu mới: ", "Của cơ quan: ", 1), by_user_id=by, ctx=ctx)
    own = diagrams.publish(owner, key, "Phiên bản riêng", by_user_id=by, ctx=ctx)
    assert not _overview(owner, key).newer_template
    diagrams.save(None, key, template(key).replace('name="', 'name="Mẫu sửa lần 2: ', 1), by_user_id=None, ctx=ctx)
    newest = diagrams.publish(None, key, "Sửa tên quy trình mẫu", by_user_id=None, ctx=ctx)
    db.session.commit()
    seen = _overview(owner, key)
    assert seen.newer_template and seen.current.id == own.id and seen.newest_template.id == newest.id
    assert services.current_version(owner, key).id == own.id  # its own version still wins
    adopted = diagrams.adopt_template(owner, key, "", by_user_id=by, ctx=ctx)
    db.session.commit()
    assert adopted.sha256 == newest.sha256 and adopted.agency_id == owner
    after = _overview(owner, key)
    assert not after.newer_template and after.started_from.id == newest.id


def test_list_page_shows_newer_template_banner(agency_admin: Any, ctx: Any) -> None:
    owner, by = agency_admin.agency.id, agency_admin.admin.user_id
    diagrams.save(owner, "task_assignment", template("task_assignment"), by_user_id=by, ctx=ctx)
    diagrams.publish(owner, "task_assignment", "Riêng", by_user_id=by, ctx=ctx)
    diagrams.save(None, "task_assignment", template("task_assignment").replace('name="', 'name="Mới: ', 1),
                  by_user_id=None, ctx=ctx)
    diagrams.publish(None, "task_assignment", "Mẫu mới", by_user_id=None, ctx=ctx)
    db.session.commit()
    page = agency_admin.client.get("/designer/").get_data(as_text=True)
    assert "Có phiên bản mẫu mới hơn" in page and "Áp dụng mẫu mới" in page
    assert "Theo mẫu Sở TTTT" in page  # the other processes still follow the templates


def _upload(client: Any, name: str) -> Any:
    data = (FIXTURES / name).read_bytes()
    return client.form_post("/designer/process/incoming/import", {"file": (BytesIO(data), name)},
                            content_type="multipart/form-data")


def test_import_camunda_diagram_becomes_a_draft_to_map(agency_admin: Any) -> None:
    owner = agency_admin.agency.id
    resp = _upload(agency_admin.client, "camunda_valid.bpmn")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/designer/process/incoming/mapping")
    draft = db.session.scalar(select(ProcessVersion).where(ProcessVersion.agency_id == owner))
    assert draft.status == "draft"
    assert 'name="formKey" value="incoming_register"' in draft.bpmn_xml  # camunda:formKey understood
    page = unescape(agency_admin.client.get("/designer/process/incoming/mapping").get_data(as_text=True))
    assert "camunda:formKey" in page  # the flash says what was adapted
    assert "chưa chọn loại bước" in page and "phải có bước «Xử lý văn bản»" in page  # what is left, precisely


def test_import_refuses_what_is_not_a_diagram_and_names_what_it_cannot_run(agency_admin: Any) -> None:
    owner = agency_admin.agency.id
    refused = {
        "not_xml.bpmn": ["Tệp sơ đồ không phải XML hợp lệ (dòng 1)"],
        "entity_bomb.bpmn": ["Tệp sơ đồ chứa khai báo DTD/thực thể XML, không được phép vì lý do an toàn"],
    }
    for name, messages in refused.items():
        resp = _upload(agency_admin.client, name)
        html = unescape(resp.get_data(as_text=True))
        assert resp.status_code == 422, name
        assert f"Không nhận tệp “{name}”" in html and "Không có gì được lưu" in html
        assert "Traceback" not in html
        for message in messages:
            assert message in html, (name, message)
    assert _count(owner) == 0
    # A readable diagram becomes a draft; what QLVB cannot run is named in the admin's words, no XML tags.
    kept = {
        "script_task.bpmn": ["Bước kịch bản «Tự phân công» (mã Activity_assign): bước chạy kịch bản không được phép"],
        "unknown_lane.bpmn": ["Làn «Giám đốc» (mã Lane_2): vai trò «Giám đốc» không có trong danh mục"],
        "message_event.bpmn": ["sự kiện thông điệp chưa được hỗ trợ"],
    }
    for name, messages in kept.items():
        resp = _upload(agency_admin.client, name)
        assert resp.status_code == 302, name
        html = unescape(agency_admin.client.get("/designer/process/incoming/mapping").get_data(as_text=True))
        for message in messages:
            assert message in html, (name, message)
        assert "scriptTask" not in html and "messageEventDefinition" not in html


def test_template_step_added_in_diff_page(agency_admin: Any, ctx: Any) -> None:
    owner, by = agency_admin.agency.id, agency_admin.admin.user_id
    base = services.current_version(owner, "incoming")
    diagrams.save(owner, "incoming", with_check_step(template("incoming")), by_user_id=by, ctx=ctx)
    own = diagrams.publish(owner, "incoming", "Thêm bước kiểm tra thể thức", by_user_id=by, ctx=ctx)
    db.session.commit()
    html = agency_admin.client.get(f"/designer/process/incoming/diff?a={base.id}&b={own.id}").get_data(as_text=True)
    assert "Thêm 1 bước, bỏ 0 bước, sửa 1 bước" in html
    assert "Bước “Kiểm tra thể thức”" in html and "thêm luồng tới «Kiểm tra thể thức»" in html
