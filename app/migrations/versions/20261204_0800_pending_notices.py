"""notification_pending: task-opened notices written by the step, announced by a job after the commit

Revision ID: 20261204_0800_pending_notices
Revises: 20261204_0400_mail_intake
Create Date: 2026-12-04 08:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "20261204_0800_pending_notices"
down_revision = "20261204_0400_mail_intake"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_pending",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("returned", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notification_pending")
