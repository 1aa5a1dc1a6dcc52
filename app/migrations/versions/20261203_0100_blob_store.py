"""the database file store (QLVB_STORAGE=database): ``blob`` and its 1 MiB ``blob_chunk`` rows

On PostgreSQL the chunk bytes are stored EXTERNAL (out of line, not compressed): attachments are mostly PDFs,
images and office files that are compressed already, and pglz would spend CPU on every write for nothing.

Revision ID: 20261203_0100_blob_store
Revises: 20261202_0000_step_kinds_chain
Create Date: 2026-12-03 01:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "20261203_0100_blob_store"
down_revision = "20261202_0000_step_kinds_chain"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "blob",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("touched_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "blob_chunk",
        sa.Column("sha256", sa.String(64), sa.ForeignKey("blob.sha256", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE blob_chunk ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade():
    op.drop_table("blob_chunk")
    op.drop_table("blob")
