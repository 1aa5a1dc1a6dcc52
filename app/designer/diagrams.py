"""The routing designer's services: drafts, publishing, roll-back, SoICT templates and their adoption, import.

``owner_id`` is the agency whose diagrams are edited, or None for SoICT's templates (central domain).
Every function validates first and changes nothing when it refuses (the caller commits).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from app.core.errors import DomainError, NotFoundError, RefusedError, ValidationError
from app.core.text import fold, nfc
from app.extensions import db
from app.tenancy.queries import position_names, role_holders
from app.tenancy.roles import ROLE_LABELS, WORKFLOW_ROLES
from app.workflow import services as wf
from app.workflow.dialects import adapt_foreign_dialects
from app.workflow.diff import DiffResult, diff_versions
from app.workflow.errors import DiagramInvalidError, ExpressionError, ProblemInfo
from app.workflow.expressions import check_expression
from app.workflow.info import ProcessVersionInfo
from app.workflow.loader import MAX_DIAGRAM_BYTES, executable_processes, parse_xml
from app.workflow.mapping import MappingInfo, apply_mapping, mapping_of
from app.workflow.models import ProcessVersion
from app.workflow.operations import registered_operations
from app.workflow.references import operations_in
from app.workflow.validation import ContractInfo, validate_diagram

from . import forms as form_store
from .audit import record_change

log = logging.getLogger("qlvb.designer")

# The processes every agency runs (DESIGN.md); others appear once a version of them exists.
PROCESS_NAMES = {
    "incoming": "Xử lý văn bản đến",
    "outgoing": "Soạn thảo, ban hành văn bản đi",
    "task_assignment": "Giao việc",
    "opinion_request": "Xin ý kiến góp ý",
    "opinion_answer": "Trả lời xin ý kiến liên thông",
}


def process_name(key: str) -> str:
    """The Vietnamese name of a process: built in, defined by an agency, or else its kind's label."""
    if key in PROCESS_NAMES:
        return PROCESS_NAMES[key]
    from app.workflow.steps import process_kind

    kind = process_kind(key)
    return kind.label if kind is not None else key


@dataclass(frozen=True)
class ValidationContextInfo:
    roles: frozenset[str]
    forms: frozenset[str]
    operations: frozenset[str]
    form_fields: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    role_labels: Mapping[str, str] = field(default_factory=dict)
    held_roles: Mapping[str, tuple[str, ...]] | None = None  # None: SoICT's templates (no one agency)
    positions: tuple[str, ...] = ()

    def contract(self, key: str) -> ContractInfo:
        return ContractInfo(process_key=key, form_fields=self.form_fields, role_labels=self.role_labels,
                            held_roles=self.held_roles, positions=self.positions)


@dataclass(frozen=True)
class SaveResult:
    version: ProcessVersionInfo
    problems: tuple[ProblemInfo, ...]


@dataclass(frozen=True)
class ImportResult:
    version: ProcessVersionInfo
    notes: tuple[str, ...]
    problems: tuple[ProblemInfo, ...] = ()


@dataclass(frozen=True)
class ProcessOverviewInfo:
    key: str
    name: str
    current: ProcessVersionInfo | None
    follows_template: bool
    draft: ProcessVersionInfo | None
    newest_template: ProcessVersionInfo | None
    started_from: ProcessVersionInfo | None
    newer_template: bool


@dataclass(frozen=True)
class VersionRowInfo:
    version: ProcessVersionInfo
    author: str | None
    is_current: bool


# -- what a diagram may use ------------------------------------------------------------------
@lru_cache(maxsize=8)
def _shipped_operations(processes_dir: str) -> frozenset[str]:
    """Operations SoICT's templates call: the platform provides them even before a module registers."""
    found: set[str] = set()
    for path in sorted(Path(processes_dir, "templates").glob("*.bpmn")):
        try:
            found |= operations_in(path.read_text(encoding="utf-8"))
        except DiagramInvalidError:
            log.warning("template %s is not valid XML", path)
    return frozenset(found)


def validation_context(owner_id: int | None, *, forms_dir: str, processes_dir: str) -> ValidationContextInfo:
    keys = frozenset(form_store.form_keys(owner_id, forms_dir))
    fields: dict[str, dict[str, str]] = {}
    for key in keys:
        try:
            fields[key] = {f.name: f.label for f in form_store.effective_form(owner_id, key, forms_dir).fields}
        except DomainError:
            log.warning("form %s of owner %s does not load; diagrams using it are checked without its fields",
                        key, owner_id)
    holders = role_holders(owner_id) if owner_id is not None else None
    return ValidationContextInfo(
        roles=frozenset(WORKFLOW_ROLES),
        forms=keys,
        operations=registered_operations() | _shipped_operations(processes_dir),
        form_fields=fields,
        role_labels=dict(ROLE_LABELS),
        held_roles=holders,
        positions=tuple(position_names(owner_id)) if owner_id is not None else (),
    )


def _validate(xml: str, ctx: ValidationContextInfo, key: str | None = None) -> None:
    validate_diagram(xml, known_roles=ctx.roles, known_forms=ctx.forms, known_operations=ctx.operations,
                     contract=ctx.contract(key) if key else None)


def problems_of(xml: str, ctx: ValidationContextInfo, key: str | None = None) -> tuple[ProblemInfo, ...]:
    try:
        _validate(xml, ctx, key)
    except DiagramInvalidError as exc:
        return tuple(exc.problems)
    return ()


def check_condition(text: str) -> str:
    """Vietnamese verdict on a gateway condition; raises ValidationError if the evaluator refuses it."""
    if not text or not text.strip():
        raise ValidationError("Điều kiện trống")
    try:
        check_expression(text.strip())
    except ExpressionError as exc:
        raise ValidationError(f"Điều kiện không hợp lệ — {exc.message}") from None
    return "Điều kiện hợp lệ"


# -- reading -----------------------------------------------------------------------------------
def _owner_clause(owner_id: int | None) -> Any:
    return ProcessVersion.agency_id.is_(None) if owner_id is None else ProcessVersion.agency_id == owner_id


def _rows(owner_id: int | None, key: str) -> list[ProcessVersion]:
    return list(db.session.scalars(
        select(ProcessVersion).where(_owner_clause(owner_id), ProcessVersion.process_key == key)
        .order_by(ProcessVersion.number.desc())
    ))


def _newest(owner_id: int | None, key: str, status: str = "published") -> ProcessVersion | None:
    return db.session.scalar(
        select(ProcessVersion)
        .where(_owner_clause(owner_id), ProcessVersion.process_key == key, ProcessVersion.status == status)
        .order_by(ProcessVersion.number.desc()).limit(1)
    )


def _open_draft(owner_id: int | None, key: str) -> ProcessVersion | None:
    """The draft being edited: a draft newer than every published version (older drafts are stale)."""
    rows = _rows(owner_id, key)
    return rows[0] if rows and rows[0].status == "draft" else None


def process_keys(owner_id: int | None) -> list[str]:
    stored = db.session.scalars(
        select(ProcessVersion.process_key).where(
            (ProcessVersion.agency_id.is_(None)) | (_owner_clause(owner_id))
        ).distinct()
    )
    keys = set(stored) | set(PROCESS_NAMES)
    return sorted(keys, key=lambda k: (list(PROCESS_NAMES).index(k) if k in PROCESS_NAMES else 99, k))


def started_from(agency_id: int, key: str) -> ProcessVersion | None:
    """The template an agency's own line of versions derives from: the newest it adopted verbatim,
    else the template that was current when its first version was made."""
    own = _rows(agency_id, key)
    if not own:
        return None
    shas = {r.sha256 for r in own if r.status == "published"}
    for template in _rows(None, key):
        if template.status == "published" and template.sha256 in shas:
            return template
    first = min(own, key=lambda r: r.number)
    return db.session.get(ProcessVersion, first.base_template_version_id) if first.base_template_version_id else None


def overview(owner_id: int | None) -> list[ProcessOverviewInfo]:
    out = []
    for key in process_keys(owner_id):
        newest_template = _newest(None, key)
        own = _newest(owner_id, key) if owner_id is not None else None
        current = own or newest_template
        origin = started_from(owner_id, key) if owner_id is not None and own is not None else None
        draft = _open_draft(owner_id, key)
        newer = bool(own and newest_template and origin and newest_template.number > origin.number) or bool(
            own and newest_template and origin is None
        )
        out.append(ProcessOverviewInfo(
            key=key,
            name=process_name(key),
            current=wf.version_info(current) if current else None,
            follows_template=owner_id is not None and own is None,
            draft=wf.version_info(draft) if draft else None,
            newest_template=wf.version_info(newest_template) if newest_template else None,
            started_from=wf.version_info(origin) if origin else None,
            newer_template=newer,
        ))
    return out


def editable_xml(owner_id: int | None, key: str) -> tuple[str, ProcessVersionInfo | None]:
    """What the modeler opens: the open draft, else the version in force (own or template)."""
    row = _open_draft(owner_id, key) or _newest(owner_id, key)
    if row is None and owner_id is not None:
        row = _newest(None, key)
    if row is None:
        raise NotFoundError(f"Chưa có sơ đồ nào cho quy trình “{process_name(key)}”")
    return row.bpmn_xml, wf.version_info(row)


def version_row(owner_id: int | None, version_id: int) -> ProcessVersion:
    """A version the owner may read: its own, or any SoICT template."""
    row = db.session.get(ProcessVersion, version_id)
    if row is None or (row.agency_id is not None and row.agency_id != owner_id):
        raise NotFoundError("Không tìm thấy phiên bản quy trình")
    return row


def versions(owner_id: int | None, key: str) -> list[VersionRowInfo]:
    from app.tenancy.models import Staff

    rows = _rows(owner_id, key)
    current = _newest(owner_id, key)
    user_ids = {r.created_by_id for r in rows if r.created_by_id}
    authors = dict(db.session.execute(
        select(Staff.user_id, Staff.full_name).where(Staff.user_id.in_(user_ids))
    ).all()) if user_ids else {}
    return [VersionRowInfo(wf.version_info(r), authors.get(r.created_by_id), current is not None and r.id == current.id)
            for r in rows]


def diff(owner_id: int | None, a_id: int, b_id: int) -> tuple[ProcessVersionInfo, ProcessVersionInfo, DiffResult]:
    a, b = version_row(owner_id, a_id), version_row(owner_id, b_id)
    return wf.version_info(a), wf.version_info(b), diff_versions(a.bpmn_xml, b.bpmn_xml)


# -- changing ------------------------------------------------------------------------------------
def _clean_xml(xml: str) -> str:
    if not isinstance(xml, str) or not xml.strip():
        raise ValidationError("Sơ đồ trống")
    if len(xml.encode("utf-8")) > MAX_DIAGRAM_BYTES:
        raise ValidationError(f"Sơ đồ quá lớn (tối đa {MAX_DIAGRAM_BYTES // 1024} KB)")
    return nfc(xml)


def save(owner_id: int | None, key: str, xml: str, *, by_user_id: int | None,
         ctx: ValidationContextInfo) -> SaveResult:
    """Keep the modeler's work as the open draft and return what still stops it from being published."""
    xml = _clean_xml(xml)
    parse_xml(xml)  # not XML, or hostile: refuse outright (DiagramInvalidError), nothing saved
    problems = problems_of(xml, ctx, key)
    draft = _open_draft(owner_id, key)
    if draft is not None:
        before = {"number": draft.number, "sha256": draft.sha256}
        version = wf.update_draft(draft.id, xml)
        draft.created_by_id = by_user_id
    else:
        before = None
        version = wf.save_draft(owner_id, key, xml, by_user_id=by_user_id)
    if before is None or before["sha256"] != version.sha256:
        record_change(agency_id=owner_id, actor_id=by_user_id, area="diagram", action="save_draft", subject=key,
                      summary=f"Bản nháp số {version.number} của quy trình “{process_name(key)}”"
                      + (f" (còn {len(problems)} lỗi)" if problems else ""),
                      before=before, after={"number": version.number, "sha256": version.sha256})
    return SaveResult(version, problems)


def _require_note(note: str) -> str:
    note = nfc((note or "").strip())
    if not note:
        raise ValidationError("Hãy ghi nội dung thay đổi trước khi ban hành",
                              field_errors={"note": ["Bắt buộc nhập nội dung thay đổi"]})
    return note[:2000]


def _publish_xml(owner_id: int | None, key: str, xml: str, *, by_user_id: int | None, note: str,
                 ctx: ValidationContextInfo, action: str, summary: str) -> ProcessVersionInfo:
    previous = _newest(owner_id, key) or (_newest(None, key) if owner_id is not None else None)
    version = wf.publish_version(owner_id, key, xml, by_user_id=by_user_id, note=note, known_roles=ctx.roles,
                                 known_forms=ctx.forms, known_operations=ctx.operations, contract=ctx.contract(key))
    changes = diff_versions(previous.bpmn_xml, xml) if previous is not None else None
    record_change(
        agency_id=owner_id, actor_id=by_user_id, area="diagram", action=action, subject=key,
        summary=f"{summary} — phiên bản số {version.number}: {note}"
        + (f" ({changes.summary_vi().lower()})" if changes is not None else ""),
        before={"version_id": previous.id, "number": previous.number, "sha256": previous.sha256,
                "template": previous.agency_id is None} if previous else None,
        after={"version_id": version.id, "number": version.number, "sha256": version.sha256,
               "added": [s.name or s.bpmn_id for s in changes.added] if changes else [],
               "removed": [s.name or s.bpmn_id for s in changes.removed] if changes else [],
               "changed": [c.step.name or c.step.bpmn_id for c in changes.changed] if changes else []},
    )
    return version


def publish(owner_id: int | None, key: str, note: str, *, by_user_id: int | None,
            ctx: ValidationContextInfo) -> ProcessVersionInfo:
    """Publish the open draft as a new immutable, numbered version; running instances keep theirs."""
    note = _require_note(note)
    draft = _open_draft(owner_id, key)
    if draft is None:
        raise RefusedError("Không có bản nháp nào để ban hành; hãy sửa và lưu sơ đồ trước")
    xml, draft_id = draft.bpmn_xml, draft.id
    in_force = _newest(owner_id, key)  # an agency making the template its own line is a change, not this
    if in_force is not None and in_force.sha256 == draft.sha256:
        raise RefusedError(f"Sơ đồ không khác phiên bản số {in_force.number} đang dùng; không ban hành phiên bản mới. "
                           "Hãy sửa sơ đồ trước khi ban hành.")
    _validate(xml, ctx, key)
    # The draft holds the next number already; it is replaced by the published row with the same content.
    db.session.execute(delete(ProcessVersion).where(ProcessVersion.id == draft_id, ProcessVersion.status == "draft"))
    db.session.flush()
    return _publish_xml(owner_id, key, xml, by_user_id=by_user_id, note=note, ctx=ctx, action="publish",
                        summary="Ban hành")


def rollback(owner_id: int | None, key: str, version_id: int, note: str, *, by_user_id: int | None,
             ctx: ValidationContextInfo) -> ProcessVersionInfo:
    """Publish an old version's diagram again as the newest version."""
    row = version_row(owner_id, version_id)
    if row.agency_id != owner_id or row.process_key != key or row.status != "published":
        raise RefusedError("Chỉ khôi phục được một phiên bản đã ban hành của chính quy trình này")
    note = _require_note(note or f"Khôi phục phiên bản số {row.number}")
    return _publish_xml(owner_id, key, row.bpmn_xml, by_user_id=by_user_id,
                        note=f"Khôi phục phiên bản số {row.number}: {note}", ctx=ctx, action="rollback",
                        summary=f"Khôi phục phiên bản số {row.number}")


def adopt_template(agency_id: int, key: str, note: str, *, by_user_id: int | None,
                   ctx: ValidationContextInfo) -> ProcessVersionInfo:
    """Make SoICT's newest template the agency's newest own version."""
    template = _newest(None, key)
    if template is None:
        raise NotFoundError("Sở TTTT chưa ban hành quy trình mẫu này")
    note = nfc((note or "").strip()) or f"Áp dụng quy trình mẫu số {template.number} của Sở TTTT"
    return _publish_xml(agency_id, key, template.bpmn_xml, by_user_id=by_user_id, note=note, ctx=ctx,
                        action="adopt_template", summary=f"Áp dụng quy trình mẫu số {template.number}")


def import_diagram(owner_id: int | None, key: str, data: bytes, filename: str, *, by_user_id: int | None,
                   ctx: ValidationContextInfo) -> ImportResult:
    """Take a .bpmn from another modeler as the open draft, with the problems that still stop it (the mapping
    step resolves them). Only a file that is not a readable, harmless BPMN diagram is refused, saving nothing."""
    if not data:
        raise ValidationError("Tệp tải lên trống")
    if len(data) > MAX_DIAGRAM_BYTES:
        raise DiagramInvalidError(
            [ProblemInfo(None, None, f"Tệp sơ đồ quá lớn (tối đa {MAX_DIAGRAM_BYTES // 1024} KB)")]
        )
    try:
        xml = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DiagramInvalidError(
            [ProblemInfo(None, None, "Tệp không phải văn bản UTF-8, không phải sơ đồ BPMN")]
        ) from None
    adapted = adapt_foreign_dialects(nfc(xml))
    xml = adapted.xml
    root = parse_xml(xml)  # hostile or not XML: refused whole
    if len(executable_processes(root)) != 1:
        _validate(xml, ctx, key)  # raises with the precise reason (no process, or several)
    problems = problems_of(xml, ctx, key)
    draft = _open_draft(owner_id, key)
    if draft is not None:
        version = wf.update_draft(draft.id, xml, note=f"Nhập từ tệp {filename}")
    else:
        version = wf.save_draft(owner_id, key, xml, by_user_id=by_user_id, note=f"Nhập từ tệp {filename}")
    record_change(agency_id=owner_id, actor_id=by_user_id, area="diagram", action="import", subject=key,
                  summary=f"Nhập tệp “{filename}” thành bản nháp số {version.number}",
                  after={"number": version.number, "sha256": version.sha256, "filename": filename,
                         "adapted": list(adapted.notes)})
    return ImportResult(version, adapted.notes, problems)


def _suggest_role(name: str) -> str | None:
    folded = fold(name)
    for code, label in ROLE_LABELS.items():
        if code in WORKFLOW_ROLES and (fold(label) == folded or fold(label) in folded or folded == code):
            return code
    return None


def import_mapping(owner_id: int | None, key: str) -> tuple[ProcessVersionInfo, MappingInfo, dict[str, str]]:
    """The open draft's mapping choices, with a role proposed for each lane whose name reads like one."""
    draft = _open_draft(owner_id, key)
    if draft is None:
        raise NotFoundError("Không có bản nháp nào để ánh xạ; hãy nhập tệp sơ đồ trước")
    info = mapping_of(draft.bpmn_xml)
    proposed = {lane.element_id: lane.role or _suggest_role(lane.name) or "" for lane in info.lanes}
    return wf.version_info(draft), info, proposed


def apply_import_mapping(owner_id: int | None, key: str, *, lanes: Mapping[str, str],
                         steps: Mapping[str, tuple[str, str]], conditions: Mapping[str, str],
                         defaults: Mapping[str, str], by_user_id: int | None,
                         ctx: ValidationContextInfo) -> SaveResult:
    draft = _open_draft(owner_id, key)
    if draft is None:
        raise NotFoundError("Không có bản nháp nào để ánh xạ")
    xml = apply_mapping(draft.bpmn_xml, process_key=key, lanes=lanes, steps=steps, conditions=conditions,
                        defaults=defaults, known_roles=ctx.roles, known_forms=ctx.forms)
    return save(owner_id, key, xml, by_user_id=by_user_id, ctx=ctx)
