"""staff.signing_method, staff.remote_credential_id: where an official's personal signing key lives

Revision ID: 20261204_0500_signing_services
Revises: 20261204_0800_pending_notices
"""

import sqlalchemy as sa
from alembic import op

revision = "20261204_0500_signing_services"
down_revision = "20261204_0800_pending_notices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("staff", sa.Column("signing_method", sa.String(length=16), nullable=True))
    op.add_column("staff", sa.Column("remote_credential_id", sa.String(length=255), nullable=True))


def downgrade() -> None:
    op.drop_column("staff", "remote_credential_id")
    op.drop_column("staff", "signing_method")
