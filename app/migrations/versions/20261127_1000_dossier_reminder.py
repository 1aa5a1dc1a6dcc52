"""dossiers: which deposit reminder was last sent for a closed dossier (due_soon, overdue)

Existing closed dossiers start with none, so the first run reminds those already due.

Revision ID: 20261127_1000_dossier_reminder
Revises: 20261127_0900_merge
Create Date: 2026-11-27 10:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "20261127_1000_dossier_reminder"
down_revision = "20261127_0900_merge"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("dossier", sa.Column("deposit_reminder", sa.String(length=16), nullable=True))


def downgrade():
    op.drop_column("dossier", "deposit_reminder")  # SQLite >= 3.35 drops columns in place
