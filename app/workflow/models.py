"""Tables of the workflow adapter: versions, instances, per-task engine state, the inbox and the timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.extensions import Model

JsonType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key for 50M task rows.
BigId = BigInteger().with_variant(Integer(), "sqlite")
OPEN = text("state = 'open'")
# "department IS NULL" is not an equality the planner can order by: role tasks with and without a department
# get an index each, so every inbox branch is an equality prefix followed by (due_at, id).
OPEN_ROLE = text("state = 'open' AND candidate_user_id IS NULL AND candidate_department_id IS NULL")
OPEN_ROLE_DEPT = text("state = 'open' AND candidate_user_id IS NULL AND candidate_department_id IS NOT NULL")
OPEN_CLAIMED = text("state = 'open' AND claimed_by_id IS NOT NULL")
DONE = text("state = 'done'")
ON_BEHALF = text("on_behalf_of_id IS NOT NULL")


class ProcessVersion(Model):
    __tablename__ = "process_version"
    __table_args__ = (
        UniqueConstraint("agency_id", "process_key", "number", name="uq_process_version_number"),
        Index("ix_process_version_lookup", "process_key", "agency_id", "status", "number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), nullable=True)
    process_key: Mapped[str] = mapped_column(String(64), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    bpmn_xml: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="draft", nullable=False)
    base_template_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_version.id"), nullable=True
    )


@event.listens_for(ProcessVersion, "before_update")
def _published_is_immutable(mapper: Any, connection: Any, target: ProcessVersion) -> None:
    state = inspect(target)
    status_history = state.attrs.status.history
    was_published = (status_history.deleted and status_history.deleted[0] == "published") or (
        not status_history.deleted and target.status == "published"
    )
    if was_published:
        for name in ("bpmn_xml", "sha256", "process_key", "agency_id", "number", "status"):
            if state.attrs[name].history.has_changes():
                raise ValueError("a published process version is immutable")


class ProcessInstance(Model):
    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_process_instance_subject", "subject_type", "subject_id"),
        Index("ix_process_instance_agency_status", "agency_id", "status", "started_at"),
        Index("ix_process_instance_timer", "status", "next_timer_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    process_key: Mapped[str] = mapped_column(String(64), nullable=False)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), nullable=False)
    subject_type: Mapped[str] = mapped_column(String(32), nullable=False)
    subject_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="running", nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    next_timer_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The engine's instance-level state (root id, last task, workflow data); tasks live in workflow_task_state.
    state_meta: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    meta: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False, default=dict)

    __mapper_args__ = {"version_id_col": revision}


class WorkflowTaskState(Model):
    """One engine task of one instance; only rows whose JSON changed are written at each step."""

    __tablename__ = "workflow_task_state"

    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True
    )
    task_uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    state_json: Mapped[str] = mapped_column(Text, nullable=False)


class HumanTask(Model):
    """The inbox projection of READY user tasks; read without touching the engine."""

    __tablename__ = "human_task"
    # Partial indexes, one per inbox query branch (app.workflow.queries), each already in page order; closed
    # tasks (most of the table after a year) are in none of the open ones, so the inbox stays flat as it grows.
    __table_args__ = (
        Index("ix_human_task_open_user", "agency_id", "candidate_user_id", "due_at", "id",
              postgresql_where=OPEN, sqlite_where=OPEN),
        Index("ix_human_task_open_role", "agency_id", "candidate_role", "due_at", "id",
              postgresql_where=OPEN_ROLE, sqlite_where=OPEN_ROLE),
        Index("ix_human_task_open_role_dept", "agency_id", "candidate_role", "candidate_department_id", "due_at", "id",
              postgresql_where=OPEN_ROLE_DEPT, sqlite_where=OPEN_ROLE_DEPT),
        Index("ix_human_task_open_claimed", "claimed_by_id", "due_at", "id",
              postgresql_where=OPEN_CLAIMED, sqlite_where=OPEN_CLAIMED),
        Index("ix_human_task_open_agency", "agency_id", "due_at", "id", postgresql_where=OPEN, sqlite_where=OPEN),
        Index("ix_human_task_done_by", "completed_by_id", "completed_at", "id",
              postgresql_where=DONE, sqlite_where=DONE),
        Index("ix_human_task_instance", "instance_id", "state"),
        # "What was done on my behalf?" (the principal of a delegation): few rows, a small partial index.
        Index("ix_human_task_on_behalf", "on_behalf_of_id", "completed_at",
              postgresql_where=ON_BEHALF, sqlite_where=ON_BEHALF),
        # "Has this person a task on this document?" (documents' visibility rule; migration 0700 creates it).
        Index("ix_human_task_subject", "subject_id", "subject_type"),
        UniqueConstraint("instance_id", "task_uuid", name="uq_human_task_engine_task"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), nullable=False)
    task_uuid: Mapped[str] = mapped_column(String(36), nullable=False)
    bpmn_id: Mapped[str] = mapped_column(String(128), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    process_key: Mapped[str] = mapped_column(String(64), nullable=False)
    subject_type: Mapped[str] = mapped_column(String(32), nullable=False)
    subject_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    form_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    step_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    candidate_role: Mapped[str | None] = mapped_column(String(64), nullable=True)
    candidate_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), nullable=True)
    candidate_user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="open", nullable=False)
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    form_data: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The person a deputy completed this step for (ủy quyền); completed_by_id is the deputy.
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)


class TaskRead(Model):
    """A person has seen a task (opened its page or marked it read in the inbox); absent: new to them."""

    __tablename__ = "task_read"

    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    human_task_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True
    )
    read_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)


class InstanceEvent(Model):
    __tablename__ = "instance_event"
    __table_args__ = (Index("ix_instance_event_instance", "instance_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    task_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    bpmn_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)


class WorkflowIncident(Model):
    """A step or timer the engine could not run, kept until an agency admin retries, skips or cancels."""

    __tablename__ = "workflow_incident"
    __table_args__ = (
        Index("ix_workflow_incident_open", "agency_id", "resolved_at"),
        Index("ix_workflow_incident_instance", "instance_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # timer | step
    element_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    element_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    message: Mapped[str] = mapped_column(Text, nullable=False)  # Vietnamese, shown to the agency admin
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)  # for the log and SoICT support
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    last_failed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(16), nullable=True)  # retried | skipped | cancelled
    resolution_note: Mapped[str | None] = mapped_column(Text, nullable=True)
