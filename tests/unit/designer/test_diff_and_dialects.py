"""Version diff, org references and the Camunda dialect mapping: pure functions of the XML."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.workflow.dialects import adapt_foreign_dialects
from app.workflow.diff import diff_versions
from app.workflow.errors import DiagramInvalidError
from app.workflow.references import operations_in, org_references
from tests.support.designer import with_check_step

ROOT = Path(__file__).resolve().parents[3]


def _read(relative: str) -> str:
    return (ROOT / relative).read_text(encoding="utf-8")


def test_agency_override_diff_against_template() -> None:
    result = diff_versions(_read("processes/templates/incoming.bpmn"), _read("processes/isotp/incoming.bpmn"))
    assert [s.name for s in result.added] == ["Thẩm định pháp lý", "Ý kiến pháp chế"]
    assert result.removed == ()
    assert result.summary_vi() == "Thêm 2 bước, bỏ 0 bước, sửa 1 bước"


def test_identical_versions_and_layout_moves_are_not_changes() -> None:
    xml = _read("processes/templates/outgoing.bpmn")
    moved = xml.replace('x="', 'x="1', 3)
    assert diff_versions(xml, moved).is_empty
    assert diff_versions(xml, xml).summary_vi() == "Không có thay đổi về các bước xử lý"


def test_org_references_name_lane_roles_with_their_steps() -> None:
    refs = org_references(_read("processes/isotp/incoming.bpmn"))
    legal = [r for r in refs if r.kind == "role" and r.code == "legal"]
    assert [r.step_name for r in legal] == ["Thẩm định pháp lý"]
    assert operations_in(_read("processes/templates/incoming.bpmn")) == {"documents.start_reply"}


def test_camunda_form_key_becomes_a_qlvb_form_property() -> None:
    result = adapt_foreign_dialects(_read("tests/fixtures/bpmn/camunda_valid.bpmn"))
    assert result.notes == ('Bước "Vào sổ": dùng biểu mẫu "incoming_register" (từ camunda:formKey)',
                            'Bước "Phân công": dùng biểu mẫu "incoming_assign" (từ camunda:formKey)')
    assert result.xml.count('<spiffworkflow:property name="formKey"') == 2
    untouched = _read("processes/templates/incoming.bpmn")
    assert adapt_foreign_dialects(untouched).xml == untouched


@pytest.mark.parametrize("name", ["not_xml.bpmn", "entity_bomb.bpmn"])
def test_hostile_or_broken_files_are_refused_before_anything_else(name: str) -> None:
    with pytest.raises(DiagramInvalidError):
        adapt_foreign_dialects((ROOT / "tests/fixtures/bpmn" / name).read_text(encoding="utf-8"))


def test_diff_names_added_removed_and_changed_steps() -> None:
    base = _read("processes/templates/incoming.bpmn")
    edited = with_check_step(base).replace('value="incoming_confirm"', 'value="incoming_process"').replace(
        'decision == "send_back"', 'decision == "return"')
    result = diff_versions(base, edited)
    assert [s.name for s in result.added] == ["Kiểm tra thể thức"]
    assert result.removed == ()
    changes = {c.step.name: c.changes for c in result.changed}
    assert changes["Vào sổ văn bản đến"] == ("thêm luồng tới «Kiểm tra thể thức»", "bỏ luồng tới «Phân công xử lý»")
    assert changes["Xác nhận kết quả xử lý"] == ("biểu mẫu: «incoming_confirm» → «incoming_process»",)
    assert changes["Kết quả?"] == ('điều kiện luồng tới «Xử lý văn bản»: «decision == "send_back"» → '
                                   '«decision == "return"»',)
    assert diff_versions(edited, base).removed[0].bpmn_id == "check_format"
