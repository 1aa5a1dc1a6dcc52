"""login throttling shared by every node, and server-side sessions

- ``login_throttle``: failed sign-in attempts per account, per client address and per trusted device,
  counted atomically before the password is checked (progressive delay instead of a hard lockout).
- ``user_session``: one row per signed-in browser; logout, a password change and an admin's revocation end
  every copy of the cookie. Existing cookies carry no session id and are logged out once.

Revision ID: 20261203_0200_login_sessions
Revises: 20261203_0100_blob_store
Create Date: 2026-12-03 02:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "20261203_0200_login_sessions"
down_revision = "20261203_0100_blob_store"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("next_allowed_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "user_session",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_reason", sa.String(32)),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.String(512)),
    )
    op.create_index("ix_user_session_user", "user_session", ["user_id", "revoked_at"])


def downgrade() -> None:
    op.drop_index("ix_user_session_user", table_name="user_session")
    op.drop_table("user_session")
    op.drop_table("login_throttle")
