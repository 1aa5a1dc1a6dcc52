"""Keep org structure and routing consistent: refuse an org change that would strand a published diagram
or open work, and record every org change (before and after) in the design log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, inspect, select

from app.core.errors import NotFoundError, RefusedError
from app.extensions import db
from app.tenancy.models import Department, Position
from app.tenancy.roles import role_label
from app.workflow import services as wf
from app.workflow.errors import DiagramInvalidError
from app.workflow.models import HumanTask, ProcessVersion
from app.workflow.references import OrgReferenceInfo, org_references

from .audit import record_change
from .diagrams import process_keys, process_name

_DEPT_FIELDS = ("code", "name", "abbreviation", "parent_id", "sort_order", "active")
_POSITION_FIELDS = ("code", "name", "role", "sort_order")


def _old(item: Any, name: str) -> Any:
    history = inspect(item).attrs[name].history
    if history.deleted:
        return history.deleted[0]
    return getattr(item, name)


def _snapshot(item: Any, fields: tuple[str, ...], *, before: bool) -> dict[str, Any]:
    return {f: (_old(item, f) if before else getattr(item, f)) for f in fields}


def _diagrams_in_force(agency_id: int) -> list[tuple[ProcessVersion, tuple[OrgReferenceInfo, ...]]]:
    """The version each process of the agency runs now (its own, else SoICT's template)."""
    out = []
    for key in process_keys(agency_id):
        try:
            version = wf.current_version(agency_id, key)
        except NotFoundError:  # the agency does not run this process
            continue
        row = db.session.get(ProcessVersion, version.id)
        try:
            out.append((row, org_references(row.bpmn_xml)))
        except DiagramInvalidError:
            continue
    return out


def _process_name(row: ProcessVersion) -> str:
    whose = "mẫu của Sở TTTT" if row.agency_id is None else "của cơ quan"
    return f"“{process_name(row.process_key)}” (phiên bản {whose} số {row.number})"


def _steps(refs: list[OrgReferenceInfo]) -> str:
    names = []
    for ref in refs:
        label = f"“{ref.step_name}”"
        if label not in names:
            names.append(label)
    return ", ".join(names)


def check_department_change(dept: Department, *, deleting: bool) -> None:
    """Refuse deleting, deactivating or re-coding a department that routing still depends on."""
    old_code = _old(dept, "code")
    recoded = old_code != dept.code
    deactivated = bool(_old(dept, "active")) and not dept.active
    if not (deleting or recoded or deactivated):
        return
    verb = "xóa" if deleting else ("ngừng hoạt động" if deactivated else "đổi mã")
    name = _old(dept, "name")
    if deleting or deactivated:
        open_work = db.session.execute(
            select(HumanTask.process_key, HumanTask.name, func.count())
            .where(HumanTask.candidate_department_id == dept.id, HumanTask.state == "open")
            .group_by(HumanTask.process_key, HumanTask.name)
        ).all()
        if open_work:
            where = "; ".join(
                f"{count} việc ở bước “{step}” của quy trình “{process_name(key)}”"
                for key, step, count in open_work
            )
            raise RefusedError(
                f"Không thể {verb} phòng ban “{name}” vì phòng đang có công việc chưa xử lý xong: {where}. "
                "Hãy hoàn thành hoặc giao lại các công việc này cho phòng khác trước."
            )
    for row, refs in _diagrams_in_force(dept.agency_id):
        used = [r for r in refs if r.kind == "department" and r.code == old_code]
        if used:
            raise RefusedError(
                f"Không thể {verb} phòng ban “{name}” (mã {old_code}) vì quy trình {_process_name(row)} "
                f"giao việc cố định cho phòng này ở bước {_steps(used)}. "
                "Hãy sửa sơ đồ quy trình (chọn phòng khác) và ban hành trước, rồi mới thay đổi phòng ban."
            )


def check_position_change(position: Position, *, deleting: bool) -> None:
    """Refuse removing the last position that carries a role a published diagram's lane needs."""
    old_role = _old(position, "role")
    if not old_role or (not deleting and old_role == position.role):
        return
    others = db.session.scalar(
        select(func.count()).select_from(Position)
        .where(Position.agency_id == position.agency_id, Position.id != position.id, Position.role == old_role)
    )
    if others:
        return
    verb = "xóa" if deleting else "đổi vai trò xử lý của"
    for row, refs in _diagrams_in_force(position.agency_id):
        used = [r for r in refs if r.kind == "role" and r.code == old_role]
        if used:
            raise RefusedError(
                f"Không thể {verb} chức vụ “{_old(position, 'name')}” vì đây là chức vụ duy nhất mang vai trò "
                f"“{role_label(old_role)}” mà quy trình {_process_name(row)} dùng ở bước {_steps(used)}. "
                "Hãy thêm chức vụ khác mang vai trò này, hoặc sửa sơ đồ quy trình và ban hành trước."
            )


def record_org_change(item: Department | Position, action: str, *, actor_id: int | None) -> None:
    """Log an org change (call before the flush that writes it, so 'before' is still known)."""
    area = "department" if isinstance(item, Department) else "position"
    fields = _DEPT_FIELDS if area == "department" else _POSITION_FIELDS
    before = None if action == "create" else _snapshot(item, fields, before=True)
    after = None if action == "delete" else _snapshot(item, fields, before=False)
    if action == "update" and before == after:
        return
    label = "phòng ban" if area == "department" else "chức vụ"
    verbs = {"create": "Thêm", "update": "Sửa", "delete": "Xóa"}
    changed = [f for f in fields if before and after and before[f] != after[f]]
    summary = f"{verbs[action]} {label} “{(before or after or {}).get('name')}”"
    if changed:
        summary += " (" + ", ".join(f"{f}: {before[f]!s} → {after[f]!s}" for f in changed) + ")"  # type: ignore[index]
    record_change(agency_id=item.agency_id, actor_id=actor_id, area=area, action=action,
                  subject=str((after or before or {}).get("code") or ""), summary=summary, before=before,
                  after=after)


def guard_and_record(item: Department | Position, action: str, *, actor_id: int | None) -> None:
    """What the org admin views call in pre_add / pre_update / pre_delete."""
    if action != "create":
        if isinstance(item, Department):
            check_department_change(item, deleting=action == "delete")
        else:
            check_position_change(item, deleting=action == "delete")
    record_org_change(item, action, actor_id=actor_id)
