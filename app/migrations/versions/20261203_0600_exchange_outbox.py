"""exchange_outbox, exchange_inbox, axis_hub_message; document.exchange_document_id, delivery.recipient_org_id

Every delivery travels as an edXML package: queued in the outbox in the transaction of the deliver step, sent by
a job with retries; what arrives is keyed in the inbox so a replayed DocumentId never makes a second copy. The
hub table holds what this deployment, acting as the province's axis, keeps for other systems until they poll.

Revision ID: 20261203_0600_exchange_outbox
Revises: 20261203_0500_notation_key
Create Date: 2026-12-03 06:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "20261203_0600_exchange_outbox"
down_revision = "20261203_0500_notation_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("document_id", sa.String(length=160), nullable=False),
        sa.Column("sender_org", sa.String(length=32), nullable=False),
        sa.Column("recipient_org", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False, server_default=""),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("route", sa.String(length=16), nullable=True),
        sa.Column("remote_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("kind", "document_id", "recipient_org", "code", name="uq_exchange_outbox_message"),
    )
    op.create_index("ix_exchange_outbox_due", "exchange_outbox", ["state", "next_attempt_at"])
    op.create_table(
        "exchange_inbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("document_id", sa.String(length=160), nullable=False),
        sa.Column("sender_org", sa.String(length=32), nullable=False),
        sa.Column("recipient_org", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False, server_default=""),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("local_document_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("kind", "document_id", "sender_org", "recipient_org", "code",
                            name="uq_exchange_inbox_message"),
    )
    op.create_table(
        "axis_hub_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("system_code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("document_id", sa.String(length=160), nullable=False),
        sa.Column("sender_org", sa.String(length=32), nullable=False),
        sa.Column("recipient_org", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False, server_default=""),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("from_system", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("kind", "document_id", "sender_org", "recipient_org", "code",
                            name="uq_axis_hub_message"),
    )
    op.create_index("ix_axis_hub_message_waiting", "axis_hub_message", ["system_code", "acked_at", "id"])
    # Plain ADD COLUMN (no batch rebuild on SQLite: it would drop the full-text triggers on document).
    op.add_column("document", sa.Column("exchange_document_id", sa.String(length=160), nullable=True))
    op.create_index("ix_document_exchange_id", "document", ["exchange_document_id"])
    op.add_column("delivery", sa.Column("recipient_org_id", sa.String(length=32), nullable=True))
    op.create_index("ix_delivery_recipient_org", "delivery", ["document_id", "recipient_org_id"])


def downgrade() -> None:
    op.drop_index("ix_delivery_recipient_org", table_name="delivery")
    op.drop_column("delivery", "recipient_org_id")
    op.drop_index("ix_document_exchange_id", table_name="document")
    op.drop_column("document", "exchange_document_id")
    op.drop_index("ix_axis_hub_message_waiting", table_name="axis_hub_message")
    op.drop_table("axis_hub_message")
    op.drop_table("exchange_inbox")
    op.drop_index("ix_exchange_outbox_due", table_name="exchange_outbox")
    op.drop_table("exchange_outbox")
