"""workflow: process versions, instances, engine task state, human tasks, instance events

Revision ID: 20261127_0200_workflow
Revises: 20261127_0100_foundation
Create Date: 2026-11-27 02:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "20261127_0200_workflow"
down_revision = "20261127_0100_foundation"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "process_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=True),
        sa.Column("process_key", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("base_template_version_id", sa.Integer(), sa.ForeignKey("process_version.id"), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agency_id", "process_key", "number", name="uq_process_version_number"),
    )
    op.create_index("ix_process_version_lookup", "process_version", ["process_key", "agency_id", "status", "number"])

    op.create_table(
        "process_instance",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("process_key", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.Integer(), sa.ForeignKey("process_version.id"), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("next_timer_at", TS, nullable=True),
        sa.Column("state_meta", sa.Text(), nullable=False),
        sa.Column("meta", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_process_instance_subject", "process_instance", ["subject_type", "subject_id"])
    op.create_index("ix_process_instance_agency_status", "process_instance", ["agency_id", "status", "started_at"])
    op.create_index("ix_process_instance_timer", "process_instance", ["status", "next_timer_at"])

    op.create_table(
        "workflow_task_state",
        sa.Column("instance_id", BIG_ID, sa.ForeignKey("process_instance.id", ondelete="CASCADE"), nullable=False),
        sa.Column("task_uuid", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", "task_uuid"),
    )

    op.create_table(
        "human_task",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("instance_id", BIG_ID, sa.ForeignKey("process_instance.id", ondelete="CASCADE"), nullable=False),
        sa.Column("task_uuid", sa.String(length=36), nullable=False),
        sa.Column("bpmn_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("process_key", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("form_key", sa.String(length=64), nullable=True),
        sa.Column("candidate_role", sa.String(length=64), nullable=True),
        sa.Column("candidate_department_id", sa.Integer(), sa.ForeignKey("department.id"), nullable=True),
        sa.Column("candidate_user_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("claimed_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("completed_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("form_data", JSON, nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "task_uuid", name="uq_human_task_engine_task"),
    )
    # Partial indexes, one per inbox query branch (app.workflow.queries), each already in page order.
    open_ = sa.text("state = 'open'")
    open_role = sa.text("state = 'open' AND candidate_user_id IS NULL AND candidate_department_id IS NULL")
    open_role_dept = sa.text("state = 'open' AND candidate_user_id IS NULL AND candidate_department_id IS NOT NULL")
    open_claimed = sa.text("state = 'open' AND claimed_by_id IS NOT NULL")
    done = sa.text("state = 'done'")
    for name, columns, where in (
        ("ix_human_task_open_user", ["agency_id", "candidate_user_id", "due_at", "id"], open_),
        ("ix_human_task_open_role", ["agency_id", "candidate_role", "due_at", "id"], open_role),
        ("ix_human_task_open_role_dept",
         ["agency_id", "candidate_role", "candidate_department_id", "due_at", "id"], open_role_dept),
        ("ix_human_task_open_claimed", ["claimed_by_id", "due_at", "id"], open_claimed),
        ("ix_human_task_open_agency", ["agency_id", "due_at", "id"], open_),
        ("ix_human_task_done_by", ["completed_by_id", "completed_at", "id"], done),
    ):
        op.create_index(name, "human_task", columns, postgresql_where=where, sqlite_where=where)
    op.create_index("ix_human_task_instance", "human_task", ["instance_id", "state"])

    op.create_table(
        "instance_event",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("instance_id", BIG_ID, sa.ForeignKey("process_instance.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("task_name", sa.String(length=255), nullable=True),
        sa.Column("bpmn_id", sa.String(length=128), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("data", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_instance_event_instance", "instance_event", ["instance_id", "at"])


def downgrade():
    op.drop_index("ix_instance_event_instance", table_name="instance_event")
    op.drop_table("instance_event")
    for name in ("ix_human_task_instance", "ix_human_task_done_by", "ix_human_task_open_agency",
                 "ix_human_task_open_claimed", "ix_human_task_open_role_dept", "ix_human_task_open_role",
                 "ix_human_task_open_user"):
        op.drop_index(name, table_name="human_task")
    op.drop_table("human_task")
    op.drop_table("workflow_task_state")
    for name in ("ix_process_instance_timer", "ix_process_instance_agency_status", "ix_process_instance_subject"):
        op.drop_index(name, table_name="process_instance")
    op.drop_table("process_instance")
    op.drop_index("ix_process_version_lookup", table_name="process_version")
    op.drop_table("process_version")
