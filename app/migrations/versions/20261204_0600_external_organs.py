"""external_organ: the directory of organisations outside the deployment (mã định danh), imported by SoICT

Revision ID: 20261204_0600_external_organs
Revises: 20261204_0100_api_clients
Create Date: 2026-12-04 06:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "20261204_0600_external_organs"
down_revision = "20261204_0100_api_clients"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "external_organ",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organ_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("parent_name", sa.String(length=500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("organ_id", name="uq_external_organ_organ_id"),
    )


def downgrade() -> None:
    op.drop_table("external_organ")
