"""mail intake: agency IMAP mailboxes and the messages taken from them

Revision ID: 20261204_0400_mail_intake
Revises: 20261204_0200_delegations
Create Date: 2026-12-04 04:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "20261204_0400_mail_intake"
down_revision = "20261204_0200_delegations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_intake_mailbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("security", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("password_sealed", sa.Text()),
        sa.Column("password_ref", sa.String(length=120)),
        sa.Column("folder", sa.String(length=255), nullable=False),
        sa.Column("processed_folder", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("last_polled_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("agency_id", "name", name="uq_mail_intake_mailbox_name"),
    )
    op.create_index("ix_mail_intake_mailbox_agency_id", "mail_intake_mailbox", ["agency_id"])
    op.create_table(
        "mail_intake_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), sa.ForeignKey("mail_intake_mailbox.id", ondelete="SET NULL")),
        sa.Column("message_key", sa.String(length=255), nullable=False),
        sa.Column("sender", sa.String(length=255)),
        sa.Column("subject", sa.Text()),
        sa.Column("received_at", sa.DateTime(timezone=True)),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("document.id", ondelete="SET NULL")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("agency_id", "message_key", name="uq_mail_intake_message_key"),
    )
    op.create_index("ix_mail_intake_message_mailbox_id", "mail_intake_message", ["mailbox_id"])


def downgrade() -> None:
    op.drop_index("ix_mail_intake_message_mailbox_id", table_name="mail_intake_message")
    op.drop_table("mail_intake_message")
    op.drop_index("ix_mail_intake_mailbox_agency_id", table_name="mail_intake_mailbox")
    op.drop_table("mail_intake_mailbox")
