"""Incidents: a timer or automatic step the engine could not run, kept per instance until an admin acts.

The timer job fires each due instance in its own transaction; when one fails, the failure is recorded
here (in a fresh transaction), the instance stops being retried every minute, and every other instance
goes on. The agency admin sees what failed, where and why, in Vietnamese, and retries (after fixing
the cause), skips the failing element with a reason, or cancels the instance.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select, update

from app.core import clock
from app.core.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError, ValidationError
from app.core.text import nfc
from app.extensions import db

from . import services
from .errors import WorkflowRuntimeError
from .info import ActorRef
from .models import ProcessInstance, WorkflowIncident

log = logging.getLogger("qlvb.workflow.incidents")

ADMIN_ROLES = frozenset({"agency_admin", "soict_admin"})
RESOLUTION_LABELS = {"retried": "Đã chạy lại thành công", "skipped": "Đã bỏ qua bước lỗi",
                     "cancelled": "Đã hủy quy trình"}


@dataclass(frozen=True)
class IncidentInfo:
    id: int
    agency_id: int
    instance_id: int
    process_key: str
    subject_type: str
    subject_id: int
    kind: str
    element_id: str | None
    element_name: str | None
    message: str
    attempts: int
    created_at: dt.datetime
    last_failed_at: dt.datetime
    resolved_at: dt.datetime | None
    resolution: str | None
    resolution_note: str | None

    @property
    def can_skip(self) -> bool:
        return self.resolved_at is None and bool(self.element_id)


def _info(row: WorkflowIncident, instance: ProcessInstance) -> IncidentInfo:
    return IncidentInfo(id=row.id, agency_id=row.agency_id, instance_id=row.instance_id,
                        process_key=instance.process_key, subject_type=instance.subject_type,
                        subject_id=instance.subject_id, kind=row.kind, element_id=row.element_id,
                        element_name=row.element_name, message=row.message, attempts=row.attempts,
                        created_at=row.created_at, last_failed_at=row.last_failed_at, resolved_at=row.resolved_at,
                        resolution=row.resolution, resolution_note=row.resolution_note)


# -- the timer job's side --------------------------------------------------------------------------
def fire_timer(instance_id: int) -> None:
    """Fire one instance's due timers (the caller owns the transaction; a failure raises)."""
    services.refresh_timers(instance_id)


def record_failure(instance_id: int, exc: BaseException, *, kind: str = "timer") -> IncidentInfo | None:
    """Keep what failed on ``instance_id`` and stop the timer job from retrying it (a fresh transaction)."""
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        return None
    if isinstance(exc, DomainError):
        message = exc.message
    else:
        message = "Lỗi hệ thống khi chạy quy trình; quản trị hệ thống xem nhật ký để biết chi tiết"
    element_id = getattr(exc, "element_id", None)
    element_name = getattr(exc, "element_name", None)
    detail = (getattr(exc, "log", None) or f"{type(exc).__name__}: {exc}")[:4000]
    now = clock.now()
    row = db.session.scalar(select(WorkflowIncident).where(WorkflowIncident.instance_id == instance_id,
                                                           WorkflowIncident.resolved_at.is_(None)))
    if row is None:
        row = WorkflowIncident(agency_id=instance.agency_id, instance_id=instance_id, kind=kind, created_at=now,
                               attempts=0)
        db.session.add(row)
    row.element_id, row.element_name = element_id, element_name
    row.message, row.detail = nfc(message)[:4000], detail
    row.attempts, row.last_failed_at = (row.attempts or 0) + 1, now
    # Parked: the minute job no longer picks it up; its open steps stay usable by staff.
    db.session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id)
                       .values(next_timer_at=None).execution_options(synchronize_session=False))
    db.session.flush()
    log.error("workflow incident on instance %s (agency %s) at %s: %s", instance_id, instance.agency_id,
              element_id or "?", detail)
    return _info(row, instance)


# -- what the agency admin sees and does -------------------------------------------------------------
def list_incidents(agency_id: int, *, include_resolved: bool = False, limit: int = 200) -> list[IncidentInfo]:
    stmt = (select(WorkflowIncident, ProcessInstance).join(ProcessInstance,
                                                           ProcessInstance.id == WorkflowIncident.instance_id)
            .where(WorkflowIncident.agency_id == agency_id))
    if not include_resolved:
        stmt = stmt.where(WorkflowIncident.resolved_at.is_(None))
    rows = db.session.execute(stmt.order_by(WorkflowIncident.last_failed_at.desc()).limit(limit)).all()
    return [_info(row, instance) for row, instance in rows]


def open_incident_count(agency_id: int) -> int:
    return len(list_incidents(agency_id))


def _open(incident_id: int, actor: ActorRef) -> WorkflowIncident:
    if not ADMIN_ROLES & actor.roles:
        raise PermissionDeniedError("Chỉ quản trị phần mềm của cơ quan xử lý được sự cố quy trình")
    row = db.session.get(WorkflowIncident, incident_id)
    if row is None or row.agency_id != actor.agency_id:
        raise NotFoundError("Không tìm thấy sự cố")
    if row.resolved_at is not None:
        raise ConflictError("Sự cố này đã được xử lý")
    return row


def _resolve(row: WorkflowIncident, actor: ActorRef, resolution: str, note: str | None) -> None:
    row.resolved_at, row.resolved_by_id = clock.now(), actor.user_id
    row.resolution, row.resolution_note = resolution, note
    db.session.flush()


def _reason(text: str | None) -> str:
    reason = nfc((text or "").strip())
    if len(reason) < 5:
        raise ValidationError("Hãy nêu lý do (ít nhất 5 ký tự)", field_errors={"reason": ["Bắt buộc"]})
    return reason[:2000]


def retry_incident(incident_id: int, actor: ActorRef) -> IncidentInfo:
    """Run the instance again; a new failure keeps the incident open with the new error (raised)."""
    row = _open(incident_id, actor)
    try:
        with db.session.begin_nested():
            fire_timer(row.instance_id)
    except DomainError as exc:
        record_failure(row.instance_id, exc, kind=row.kind)
        raise WorkflowRuntimeError(f"Chạy lại chưa được: {exc.message}") from exc
    _resolve(row, actor, "retried", None)
    return _info(row, db.session.get(ProcessInstance, row.instance_id))


def skip_incident(incident_id: int, actor: ActorRef, *, reason: str | None) -> IncidentInfo:
    row = _open(incident_id, actor)
    text = _reason(reason)
    if not row.element_id:
        raise ConflictError("Không xác định được bước gặp sự cố; hãy chạy lại hoặc hủy quy trình")
    services.skip_failed_element(row.instance_id, row.element_id)
    _resolve(row, actor, "skipped", text)
    return _info(row, db.session.get(ProcessInstance, row.instance_id))


def cancel_incident(incident_id: int, actor: ActorRef, *, reason: str | None) -> IncidentInfo:
    row = _open(incident_id, actor)
    text = _reason(reason)
    services.cancel_instance(row.instance_id, actor, comment=f"Hủy do sự cố: {text}")
    _resolve(row, actor, "cancelled", text)
    return _info(row, db.session.get(ProcessInstance, row.instance_id))
