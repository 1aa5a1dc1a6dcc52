"""Draft → publish: problems on elements, immutable numbered versions, running instances keep theirs, roll-back."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from app.core.errors import RefusedError, ValidationError
from app.designer import diagrams
from app.designer.models import DesignChange
from app.extensions import db
from app.workflow import queries, services
from app.workflow.errors import DiagramInvalidError
from app.workflow.info import ActorRef
from app.workflow.models import ProcessVersion
from tests.integration.designer.conftest import template, with_check_step


def _clerk(setup: Any) -> ActorRef:
    return ActorRef(user_id=setup.clerk.user_id, agency_id=setup.agency.id, roles=frozenset({"clerk"}))


def _next_step(instance_id: int, actor: ActorRef) -> str:
    (task,) = queries.open_tasks(instance_id)
    services.complete_task(task.id, actor, {"summary": "Công văn đến"})
    (following,) = queries.open_tasks(instance_id)
    return following.bpmn_id


def test_save_reports_problems_on_elements_and_keeps_the_draft(agency_admin: Any, ctx: Any) -> None:
    owner = agency_admin.agency.id
    broken = with_check_step(template("incoming")).replace('qlvb:role="leader"', 'qlvb:role="giam_doc"').replace(
        'request_reply == True', "__import__('os').system('id')")
    result = diagrams.save(owner, "incoming", broken, by_user_id=agency_admin.admin.user_id, ctx=ctx)
    db.session.commit()
    assert result.version.status == "draft"
    by_element = {p.element_id: p.message_vi for p in result.problems}
    assert "vai trò «giam_doc» không có trong danh mục" in by_element["Lane_leader"]
    assert by_element["Flow_reply"].startswith("Luồng «Có» (mã Flow_reply): Điều kiện không hợp lệ")
    # Saving again updates the same draft rather than piling up numbers.
    again = diagrams.save(owner, "incoming", broken, by_user_id=agency_admin.admin.user_id, ctx=ctx)
    assert again.version.id == result.version.id
    with pytest.raises(DiagramInvalidError) as refused:
        diagrams.publish(owner, "incoming", "Thêm bước kiểm tra", by_user_id=agency_admin.admin.user_id, ctx=ctx)
    assert {p.element_id for p in refused.value.problems} >= {"Lane_leader", "Flow_reply"}
    db.session.rollback()
    assert db.session.get(ProcessVersion, result.version.id).status == "draft"


def test_publish_needs_a_note_and_creates_an_immutable_numbered_version(agency_admin: Any, ctx: Any) -> None:
    owner, by = agency_admin.agency.id, agency_admin.admin.user_id
    diagrams.save(owner, "incoming", with_check_step(template("incoming")), by_user_id=by, ctx=ctx)
    with pytest.raises(ValidationError, match="nội dung thay đổi"):
        diagrams.publish(owner, "incoming", "  ", by_user_id=by, ctx=ctx)
    first = diagrams.publish(owner, "incoming", "Thêm bước kiểm tra thể thức", by_user_id=by, ctx=ctx)
    db.session.commit()
    assert (first.number, first.status, first.note) == (1, "published", "Thêm bước kiểm tra thể thức")
    with pytest.raises(RefusedError, match="đã ban hành"):
        services.update_draft(first.id, template("incoming"))
    row = db.session.get(ProcessVersion, first.id)
    row.bpmn_xml = template("incoming")
    with pytest.raises(ValueError, match="immutable"):
        db.session.flush()
    db.session.rollback()
    diagrams.save(owner, "incoming", template("incoming"), by_user_id=by, ctx=ctx)
    second = diagrams.publish(owner, "incoming", "Bỏ bước kiểm tra", by_user_id=by, ctx=ctx)
    db.session.commit()
    assert second.number == 2
    assert db.session.get(ProcessVersion, first.id).bpmn_xml == with_check_step(template("incoming"))
    logged = db.session.scalars(select(DesignChange).where(DesignChange.agency_id == owner,
                                                           DesignChange.action == "publish")).all()
    assert any("Bỏ bước kiểm tra" in c.summary and c.after["removed"] == ["Kiểm tra thể thức"] for c in logged)


def test_running_instance_keeps_its_version_new_instance_takes_the_newest(agency_admin: Any, ctx: Any,
                                                                        monkeypatch: Any) -> None:
    from app.workflow import operations

    monkeypatch.setitem(operations._registry, "documents.start_reply", lambda ref, data: None)
    owner, by, clerk = agency_admin.agency.id, agency_admin.admin.user_id, _clerk(agency_admin)
    diagrams.save(owner, "incoming", template("incoming"), by_user_id=by, ctx=ctx)
    diagrams.publish(owner, "incoming", "Quy trình của cơ quan", by_user_id=by, ctx=ctx)
    old = services.start_instance(owner, "incoming", subject_type="test", subject_id=1, data={}, actor=clerk)
    diagrams.save(owner, "incoming", with_check_step(template("incoming")), by_user_id=by, ctx=ctx)
    newer = diagrams.publish(owner, "incoming", "Thêm bước kiểm tra thể thức", by_user_id=by, ctx=ctx)
    new = services.start_instance(owner, "incoming", subject_type="test", subject_id=2, data={}, actor=clerk)
    db.session.commit()
    assert new.version_id == newer.id and old.version_id != newer.id
    assert _next_step(old.id, clerk) == "assign"
    assert _next_step(new.id, clerk) == "check_format"


def test_rollback_publishes_the_old_diagram_again(agency_admin: Any, ctx: Any) -> None:
    owner, by = agency_admin.agency.id, agency_admin.admin.user_id
    diagrams.save(owner, "outgoing", template("outgoing"), by_user_id=by, ctx=ctx)
    v1 = diagrams.publish(owner, "outgoing", "Bản đầu", by_user_id=by, ctx=ctx)
    changed = re.sub(r'(<bpmn:userTask id="[^"]+" name=")', r"\1Sửa: ", template("outgoing"), count=1)
    diagrams.save(owner, "outgoing", changed, by_user_id=by, ctx=ctx)
    v2 = diagrams.publish(owner, "outgoing", "Đổi tên", by_user_id=by, ctx=ctx)
    back = diagrams.rollback(owner, "outgoing", v1.id, "Đổi tên gây nhầm lẫn", by_user_id=by, ctx=ctx)
    db.session.commit()
    assert back.number == v2.number + 1 and back.sha256 == v1.sha256
    assert back.note.startswith("Khôi phục phiên bản số 1")
    assert services.current_version(owner, "outgoing").id == back.id
    *_versions, result = diagrams.diff(owner, v2.id, back.id)
    assert result.changed and not result.added and not result.removed


def test_publishing_an_unchanged_diagram_says_so_and_creates_nothing(agency_admin: Any, ctx: Any) -> None:
    owner, by = agency_admin.agency.id, agency_admin.admin.user_id
    xml = with_check_step(template("incoming"))
    diagrams.save(owner, "incoming", xml, by_user_id=by, ctx=ctx)
    first = diagrams.publish(owner, "incoming", "Thêm bước kiểm tra thể thức", by_user_id=by, ctx=ctx)
    db.session.commit()
    diagrams.save(owner, "incoming", xml, by_user_id=by, ctx=ctx)
    with pytest.raises(RefusedError, match=f"không khác phiên bản số {first.number} đang dùng"):
        diagrams.publish(owner, "incoming", "Ban hành lại", by_user_id=by, ctx=ctx)
    db.session.rollback()
    published = db.session.scalars(select(ProcessVersion.number).where(
        ProcessVersion.agency_id == owner, ProcessVersion.process_key == "incoming",
        ProcessVersion.status == "published")).all()
    assert published == [first.number]
