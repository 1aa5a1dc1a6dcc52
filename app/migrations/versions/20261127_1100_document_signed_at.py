"""documents: signed_at (first digitally signed file), backfilled from the attachments; statistics indexes

Statistics count "outgoing issued with a signed file" from the document row instead of joining ~700k
attachments per year of a province; the issue index carries signed_at (instead of the id the join needed)
so the count stays index-only. A new task index serves one agency's page (app/stats/models.py).

PostgreSQL: the backfill rewrites every document with a signed file; VACUUM ANALYZE document afterwards
so statistics get their index-only scans back at once rather than after autovacuum.

Revision ID: 20261127_1100_document_signed_at
Revises: 20261127_1000_dossier_reminder
Create Date: 2026-11-27 11:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "20261127_1100_document_signed_at"
down_revision = "20261127_1000_dossier_reminder"
branch_labels = None
depends_on = None

BACKFILL_PG = """
    UPDATE document SET signed_at = s.first
    FROM (SELECT document_id, min(created_at) AS first FROM attachment WHERE kind = 'signed' GROUP BY document_id) s
    WHERE document.id = s.document_id"""
BACKFILL_PORTABLE = """
    UPDATE document SET signed_at = (SELECT min(a.created_at) FROM attachment a
                                     WHERE a.document_id = document.id AND a.kind = 'signed')
    WHERE id IN (SELECT document_id FROM attachment WHERE kind = 'signed')"""


ISSUE_KEY = ["direction", "issue_date"]
ISSUE_BEFORE = ["agency_id", "id", "issued_at", "drafting_department_id", "signer_user_id"]
ISSUE_AFTER = ["agency_id", "issued_at", "signed_at", "drafting_department_id", "signer_user_id"]
TASK_AGENCY_INCLUDE = ["state", "due_at", "completed_at", "completed_by_id", "claimed_by_id", "candidate_user_id",
                       "candidate_department_id"]


def upgrade():
    op.add_column("document", sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(BACKFILL_PG if op.get_bind().dialect.name == "postgresql" else BACKFILL_PORTABLE)
    op.drop_index("ix_stats_document_issue", table_name="document")
    op.create_index("ix_stats_document_issue", "document", ISSUE_KEY, postgresql_include=ISSUE_AFTER)
    # One agency's statistics page reads its own tasks of the period, by department and person.
    op.create_index("ix_stats_task_agency", "human_task", ["agency_id", "created_at"],
                    postgresql_include=TASK_AGENCY_INCLUDE)


def downgrade():
    op.drop_index("ix_stats_task_agency", table_name="human_task")
    op.drop_index("ix_stats_document_issue", table_name="document")
    op.create_index("ix_stats_document_issue", "document", ISSUE_KEY, postgresql_include=ISSUE_BEFORE)
    op.drop_column("document", "signed_at")
