"""accounts: account security, password history, audit log, maintenance windows, task reassignment flags

Revision ID: 20261127_0400_accounts
Revises: 20261127_0200_workflow
Create Date: 2026-11-27 04:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "20261127_0400_accounts"
down_revision = "20261127_0200_workflow"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "account_security",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("password_changed_at", TS, nullable=True),
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("failed_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_failed_at", TS, nullable=True),
        sa.Column("locked_until", TS, nullable=True),
        sa.Column("directory_account", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "password_history",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_password_history_user", "password_history", ["user_id", "created_at"])
    op.create_table(
        "audit_event",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(255), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("target_type", sa.String(64), nullable=True),
        sa.Column("target_id", sa.String(64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("detail", JSON, nullable=True),
    )
    op.create_index("ix_audit_event_at", "audit_event", ["at"])
    op.create_index("ix_audit_event_agency_at", "audit_event", ["agency_id", "at"])
    op.create_index("ix_audit_event_user_at", "audit_event", ["user_id", "at"])
    op.create_index("ix_audit_event_kind_at", "audit_event", ["kind", "at"])
    op.create_table(
        "maintenance_window",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("cancelled_at", TS, nullable=True),
        sa.Column("notified_at", TS, nullable=True),
        sa.Column("notified_count", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "task_reassignment",
        sa.Column("human_task_id", BIG_ID, sa.ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("flagged_at", TS, nullable=False),
        sa.Column("resolved_at", TS, nullable=True),
    )
    op.create_index("ix_task_reassignment_agency_open", "task_reassignment", ["agency_id", "resolved_at"])


def downgrade():
    op.drop_table("task_reassignment")
    op.drop_table("maintenance_window")
    op.drop_table("audit_event")
    op.drop_table("password_history")
    op.drop_table("account_security")
