"""cache_revision: one counter per kind of cached definition (security, org, forms, maintenance)

Every node caches roles' permissions, org choices, effective forms and maintenance windows; an entry is used
only while the counter it was built under is still the one here, read in a request's first query
(app/core/revisions.py). A transaction that changes such a definition bumps its counter.

Revision ID: 20261203_0950_cache_revisions
Revises: 20261203_0900_process_cases
Create Date: 2026-12-03 08:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "20261203_0950_cache_revisions"
down_revision = "20261203_0900_process_cases"
branch_labels = None
depends_on = None

NAMES = ("security", "org", "forms", "maintenance")


def upgrade() -> None:
    table = op.create_table(
        "cache_revision",
        sa.Column("name", sa.String(length=32), primary_key=True),
        sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.bulk_insert(table, [{"name": name, "revision": 0} for name in NAMES])


def downgrade() -> None:
    op.drop_table("cache_revision")
