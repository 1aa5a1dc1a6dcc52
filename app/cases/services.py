"""Starting a case of an agency-defined process, and what its generic steps record."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from app.assignments.files import UploadInfo, store_uploads
from app.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from app.core.text import nfc, nfc_any
from app.designer.definitions import SUBJECT_TYPE, definition, definitions_for
from app.extensions import db
from app.workflow import services as wf
from app.workflow.info import ActorRef
from app.workflow.steps import Proceed, StepContext, register_subject_handler

from .models import Case, CaseFile

log = logging.getLogger("qlvb.cases")


def start_case(actor: ActorRef, process_key: str, *, title: str, data: Mapping[str, Any],
               files: Sequence[UploadInfo] = ()) -> Case:
    """Open a case of ``process_key`` for the actor's agency and start its current published diagram."""
    found = definition(process_key)
    if found is None or not found.active or found.key not in {d.key for d in definitions_for(actor.agency_id)}:
        raise NotFoundError("Không tìm thấy quy trình này hoặc quy trình đã ngừng sử dụng")
    clean = nfc((title or "").strip())
    if not 3 <= len(clean) <= 500:
        raise ValidationError("Hãy nhập tiêu đề (3 đến 500 ký tự)", field_errors={"title": ["Bắt buộc"]})
    values = {k: nfc_any(v) for k, v in data.items() if k not in ("title", "case_id", "files")}
    case = Case(agency_id=actor.agency_id, process_key=process_key, title=clean, data=values,
                created_by_id=actor.user_id)
    db.session.add(case)
    db.session.flush()
    _keep_files(case, files, actor, step_name="Khởi tạo")
    instance = wf.start_instance(actor.agency_id, process_key, subject_type=SUBJECT_TYPE, subject_id=case.id,
                                 data={**values, "title": clean, "case_id": case.id}, actor=actor)
    case.instance_id = instance.id
    db.session.flush()
    log.info("case %s of %s started by user %s", case.id, process_key, actor.user_id)
    return case


def _keep_files(case: Case, files: Sequence[UploadInfo], actor: ActorRef, *, step_name: str) -> None:
    for stored in store_uploads(list(files)):
        db.session.add(CaseFile(case_id=case.id, step_name=step_name, filename=stored.filename,
                                content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                                storage_key=stored.storage_key, uploaded_by_id=actor.user_id))


def _flat(files: Any) -> list[UploadInfo]:
    if isinstance(files, dict):
        return [u for items in files.values() for u in items]
    return list(files or ())


def _record_step(ctx: StepContext, proceed: Proceed) -> Any:
    """A generic step of a case: keep its files with the case (the form's values stay with the step)."""
    case = db.session.get(Case, ctx.task.subject_id)
    if case is None or case.agency_id != ctx.actor.agency_id:
        raise PermissionDeniedError("Không tìm thấy hồ sơ của bước này")
    _keep_files(case, _flat(ctx.inputs.get("files")), ctx.actor, step_name=ctx.task.name)
    return proceed(ctx.data)


def register_step_kinds() -> None:
    for kind in ("task", "review"):
        register_subject_handler(SUBJECT_TYPE, kind, _record_step)


def case_files(case_id: int) -> list[CaseFile]:
    return list(db.session.scalars(select(CaseFile).where(CaseFile.case_id == case_id).order_by(CaseFile.id)))
