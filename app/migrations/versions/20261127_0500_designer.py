"""designer: form versions and the log of design and org-structure changes

Revision ID: 20261127_0500_designer
Revises: 20261127_0200_workflow
Create Date: 2026-11-27 05:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "20261127_0500_designer"
down_revision = "20261127_0200_workflow"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "form_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=True),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agency_id", "key", "number", name="uq_form_version_number"),
    )
    op.create_index("ix_form_version_lookup", "form_version", ["key", "agency_id", "number"])
    op.create_table(
        "design_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("area", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_design_change_agency_at", "design_change", ["agency_id", "at"])


def downgrade():
    op.drop_index("ix_design_change_agency_at", table_name="design_change")
    op.drop_table("design_change")
    op.drop_index("ix_form_version_lookup", table_name="form_version")
    op.drop_table("form_version")
