"""delegation (ủy quyền), human_task.on_behalf_of_id, task_read (what each person has seen in their inbox)

Revision ID: 20261204_0200_delegations
Revises: 20261204_0600_external_organs
Create Date: 2026-12-04 02:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "20261204_0200_delegations"
down_revision = "20261204_0600_external_organs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delegation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("principal_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=False),
        sa.Column("deputy_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_delegation_deputy", "delegation", ["deputy_id", "ends_on"])
    op.create_index("ix_delegation_principal", "delegation", ["principal_id", "ends_on"])
    op.create_index("ix_delegation_agency", "delegation", ["agency_id", "starts_on"])
    # Never a batch (copy-and-move) rebuild of human_task on SQLite: a plain ADD COLUMN with its reference.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE human_task ADD COLUMN on_behalf_of_id INTEGER REFERENCES ab_user (id)")
    else:
        op.add_column("human_task", sa.Column("on_behalf_of_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_human_task_on_behalf_of_id_ab_user", "human_task", "ab_user",
                              ["on_behalf_of_id"], ["id"])
    where = sa.text("on_behalf_of_id IS NOT NULL")
    op.create_index("ix_human_task_on_behalf", "human_task", ["on_behalf_of_id", "completed_at"],
                    postgresql_where=where, sqlite_where=where)
    op.create_table(
        "task_read",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("human_task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  sa.ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("task_read")
    op.drop_index("ix_human_task_on_behalf", table_name="human_task")
    op.drop_column("human_task", "on_behalf_of_id")
    op.drop_table("delegation")
