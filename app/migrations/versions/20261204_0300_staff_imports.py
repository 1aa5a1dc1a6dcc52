"""staff_import: a bulk import of staff held between its preview and its confirm

Revision ID: 20261204_0300_staff_imports
Revises: 20261204_0500_signing_services
Create Date: 2026-12-04 03:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "20261204_0300_staff_imports"
down_revision = "20261204_0500_signing_services"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_import",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("ab_user.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary()),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True)),
        sa.Column("imported_count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_staff_import_agency_at", "staff_import", ["agency_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_staff_import_agency_at", table_name="staff_import")
    op.drop_table("staff_import")
