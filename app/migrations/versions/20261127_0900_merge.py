"""Merge the domain branches into one head (autogenerate needs a single head).

Revision ID: 20261127_0900_merge
Revises: 20261127_0400_accounts, 20261127_0500_designer, 20261127_0600_operations, 20261127_0700_search_stats, 20261127_0800_assignments
Create Date: 2026-11-27 01:50:49.679894

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261127_0900_merge'
down_revision = ('20261127_0400_accounts', '20261127_0500_designer', '20261127_0600_operations', '20261127_0700_search_stats', '20261127_0800_assignments')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
