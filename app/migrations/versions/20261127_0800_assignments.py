"""assignments and opinions: assigned work (reports, extensions, links, files), opinion requests, reviewers, files

Revision ID: 20261127_0800_assignments
Revises: 20261127_0200_workflow
Create Date: 2026-11-27 08:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "20261127_0800_assignments"
down_revision = "20261127_0200_workflow"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _file_columns():
    return [
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    ]


def upgrade():
    op.create_table(
        "work_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=False),
        sa.Column("lead_user_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=False),
        sa.Column("lead_department_id", sa.Integer(), sa.ForeignKey("department.id"), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("original_deadline", sa.Date(), nullable=False),
        sa.Column("percent", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rating", sa.String(length=16), nullable=True),
        sa.Column("evaluation_comment", sa.Text(), nullable=True),
        sa.Column("attachments_note", sa.Text(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("evaluated_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_work_item_agency_status_deadline", "work_item", ["agency_id", "status", "deadline"])
    op.create_index("ix_work_item_lead_user", "work_item", ["lead_user_id", "status"])
    op.create_index("ix_work_item_assigned_by", "work_item", ["assigned_by_id", "status"])

    op.create_table(
        "work_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), sa.ForeignKey("work_item.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("work_item_id", "kind", "ref_id", name="uq_work_member"),
    )
    op.create_index("ix_work_member_ref", "work_member", ["kind", "ref_id"])

    op.create_table(
        "work_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), sa.ForeignKey("work_item.id", ondelete="CASCADE"), nullable=False),
        sa.Column("percent", sa.SmallInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reported_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=False),
        sa.Column("reported_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_work_report_work_item_id", "work_report", ["work_item_id"])

    op.create_table(
        "work_extension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), sa.ForeignKey("work_item.id", ondelete="CASCADE"), nullable=False),
        sa.Column("old_deadline", sa.Date(), nullable=False),
        sa.Column("new_deadline", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=False),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_work_extension_work_item_id", "work_extension", ["work_item_id"])

    op.create_table(
        "work_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), sa.ForeignKey("work_item.id", ondelete="CASCADE"), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("work_item_id", "subject_type", "subject_id", name="uq_work_link"),
    )
    op.create_index("ix_work_link_subject", "work_link", ["subject_type", "subject_id"])

    op.create_table(
        "work_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), sa.ForeignKey("work_item.id", ondelete="CASCADE"), nullable=False),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("work_report.id", ondelete="SET NULL"), nullable=True),
        *_file_columns(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_work_file_work_item_id", "work_file", ["work_item_id"])

    op.create_table(
        "opinion_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("requester_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("origin_reviewer_id", sa.Integer(), nullable=True),
        sa.Column("origin_agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("consolidated_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("origin_reviewer_id"),
    )
    op.create_index("ix_opinion_request_agency_status", "opinion_request", ["agency_id", "status", "deadline"])
    op.create_index("ix_opinion_request_requester_id", "opinion_request", ["requester_id"])

    op.create_table(
        "opinion_reviewer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("opinion_request.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("external", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.String(length=32), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("answered_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_opinion_reviewer_request_id", "opinion_reviewer", ["request_id"])
    op.create_index("ix_opinion_reviewer_user", "opinion_reviewer", ["user_id", "answered_at"])

    op.create_table(
        "opinion_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("opinion_request.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("reviewer_id", sa.Integer(), sa.ForeignKey("opinion_reviewer.id", ondelete="CASCADE"),
                  nullable=True),
        *_file_columns(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_opinion_file_request_id", "opinion_file", ["request_id"])


def downgrade():
    for table in ("opinion_file", "opinion_reviewer", "opinion_request", "work_file", "work_link", "work_extension",
                  "work_report", "work_member", "work_item"):
        op.drop_table(table)
