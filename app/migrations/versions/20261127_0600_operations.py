"""operations: days off, notifications, e-mail outbox, job marks, work calendars, work exchange

Revision ID: 20261127_0600_operations
Revises: 20261127_0200_workflow
Create Date: 2026-11-27 06:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "20261127_0600_operations"
down_revision = "20261127_0200_workflow"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "day_off",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("agency_id", "day", name="uq_day_off_agency_day"),
    )
    op.create_index("ix_day_off_day", "day_off", ["day", "agency_id"])

    op.create_table(
        "notification",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(255), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("dedupe_key", sa.String(120), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("read_at", TS, nullable=True),
        sa.UniqueConstraint("user_id", "dedupe_key", name="uq_notification_dedupe"),
    )
    op.create_index("ix_notification_user_unread", "notification", ["user_id", "read_at", "id"])

    op.create_table(
        "email_outbox",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=True),
        sa.Column("to_addr", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(120), nullable=False, unique=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
    )
    op.create_index("ix_email_outbox_due", "email_outbox", ["status", "next_attempt_at", "id"])

    op.create_table(
        "job_mark",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", TS, nullable=False),
    )

    op.create_table(
        "calendar_week",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("department.id"), nullable=True),
        sa.Column("scope_key", sa.String(32), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("approved_at", TS, nullable=True),
        sa.Column("published_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("agency_id", "scope_key", "week_start", name="uq_calendar_week"),
    )
    op.create_table(
        "calendar_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("week_id", sa.Integer(), sa.ForeignKey("calendar_week.id", ondelete="CASCADE"), nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("location", sa.String(255), nullable=False),
        sa.Column("chair_user_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("chair_name", sa.String(255), nullable=False),
        sa.Column("participants", sa.Text(), nullable=False),
        sa.Column("preparing_unit", sa.String(255), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_calendar_event_agency_day", "calendar_event", ["agency_id", "day", "start_time"])
    op.create_index("ix_calendar_event_week", "calendar_event", ["week_id", "day", "start_time"])
    op.create_index("ix_calendar_event_chair", "calendar_event", ["chair_user_id", "day"])
    op.create_table(
        "calendar_event_participant",
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("calendar_event.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("ab_user.id"), primary_key=True),
    )
    op.create_index("ix_calendar_event_participant_user_id", "calendar_event_participant", ["user_id"])
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=False),
        sa.Column("scope_key", sa.String(32), nullable=False),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("user_id", "scope_key", name="uq_calendar_feed_user_scope"),
    )

    op.create_table(
        "exchange_thread",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("subject_type", sa.String(32), nullable=True),
        sa.Column("subject_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_message_at", TS, nullable=False),
    )
    op.create_index("ix_exchange_thread_subject", "exchange_thread", ["agency_id", "subject_type", "subject_id"])
    op.create_table(
        "exchange_participant",
        sa.Column("thread_id", sa.Integer(), sa.ForeignKey("exchange_thread.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("ab_user.id"), primary_key=True),
        sa.Column("last_read_message_id", sa.BigInteger(), nullable=False),
        sa.Column("joined_at", TS, nullable=False),
    )
    op.create_index("ix_exchange_participant_user", "exchange_participant", ["user_id", "thread_id"])
    op.create_table(
        "exchange_message",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("thread_id", sa.Integer(), sa.ForeignKey("exchange_thread.id", ondelete="CASCADE"), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_exchange_message_thread", "exchange_message", ["thread_id", "id"])
    op.create_table(
        "exchange_file",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", BIG_ID, sa.ForeignKey("exchange_message.id", ondelete="CASCADE"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(255), nullable=False),
    )
    op.create_index("ix_exchange_file_message", "exchange_file", ["message_id"])


def downgrade():
    for table in ("exchange_file", "exchange_message", "exchange_participant", "exchange_thread", "calendar_feed",
                  "calendar_event_participant", "calendar_event", "calendar_week", "job_mark", "email_outbox",
                  "notification", "day_off"):
        op.drop_table(table)
