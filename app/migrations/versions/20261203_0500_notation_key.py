"""document.notation_key: duplicates compare the same way on SQLite and PostgreSQL ("Đ" included)

SQLite's lower() folds ASCII only, so "15/QĐ-UBND" never matched "15/qđ-ubnd" and a duplicate was
registered silently. The key is computed in Python (NFC, casefold, no whitespace) and indexed.

Revision ID: 20261203_0500_notation_key
Revises: 20261203_0400_workflow_incidents
Create Date: 2026-12-03 05:00:00

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "20261203_0500_notation_key"
down_revision = "20261203_0400_workflow_incidents"
branch_labels = None
depends_on = None


def _key(value: str | None) -> str | None:
    if not value:
        return None
    return "".join(unicodedata.normalize("NFC", value).casefold().split()) or None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild on SQLite: it would drop the full-text triggers on document).
    op.add_column("document", sa.Column("notation_key", sa.String(length=80), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, number_notation FROM document WHERE number_notation IS NOT NULL")).all()
    for row_id, value in rows:
        bind.execute(sa.text("UPDATE document SET notation_key = :k WHERE id = :i"), {"k": _key(value), "i": row_id})
    op.drop_index("ix_document_duplicate", table_name="document")
    op.create_index("ix_document_duplicate", "document", ["agency_id", "direction", "notation_key", "issue_date"])


def downgrade() -> None:
    op.drop_index("ix_document_duplicate", table_name="document")
    op.create_index("ix_document_duplicate", "document", ["agency_id", "direction", "number_notation", "issue_date"])
    op.drop_column("document", "notation_key")
