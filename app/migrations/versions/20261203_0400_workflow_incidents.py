"""workflow incidents: a timer or automatic step that failed, kept per instance until an admin acts

Revision ID: 20261203_0400_workflow_incidents
Revises: 20261203_0200_login_sessions
Create Date: 2026-12-03 04:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "20261203_0400_workflow_incidents"
down_revision = "20261203_0200_login_sessions"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "workflow_incident",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("instance_id", BigId, sa.ForeignKey("process_instance.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("element_id", sa.String(length=128), nullable=True),
        sa.Column("element_name", sa.String(length=255), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
    )
    op.create_index("ix_workflow_incident_open", "workflow_incident", ["agency_id", "resolved_at"])
    op.create_index("ix_workflow_incident_instance", "workflow_incident", ["instance_id"])


def downgrade() -> None:
    op.drop_index("ix_workflow_incident_instance", table_name="workflow_incident")
    op.drop_index("ix_workflow_incident_open", table_name="workflow_incident")
    op.drop_table("workflow_incident")
