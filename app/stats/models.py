"""The indexes statistics read through (app.stats.queries); the tables belong to other domains.

Declared here, next to the queries that need them, so autogenerate sees them; the migrations
20261127_0700_search_stats and 20261127_1100_document_signed_at create them. Each is covering
(INCLUDE, PostgreSQL only) so a period's counts are index-only range scans.
"""

from __future__ import annotations

from sqlalchemy import Index

from app.documents.models import Document
from app.workflow.models import HumanTask, ProcessInstance

STATS_INDEXES = (
    # Incoming registered in a period, every agency (province dashboard) or one agency by department.
    Index("ix_stats_document_arrival", Document.direction, Document.arrival_date,
          postgresql_include=["agency_id", "number", "channel", "signature_status", "lead_department_id"]),
    # Outgoing issued in a period; signed_at makes "with a signed file" a column of the same scan.
    Index("ix_stats_document_issue", Document.direction, Document.issue_date,
          postgresql_include=["agency_id", "issued_at", "signed_at", "drafting_department_id", "signer_user_id"]),
    Index("ix_stats_instance_started", ProcessInstance.started_at, postgresql_include=["agency_id", "process_key"]),
    # Tasks created in a period across the province (narrow: the dashboard scans a year of every agency).
    Index("ix_stats_task_created", HumanTask.created_at,
          postgresql_include=["agency_id", "state", "due_at", "completed_at"]),
    # One agency's tasks by department and person (its own range, with who the task belongs to).
    Index("ix_stats_task_agency", HumanTask.agency_id, HumanTask.created_at,
          postgresql_include=["state", "due_at", "completed_at", "completed_by_id", "claimed_by_id",
                              "candidate_user_id", "candidate_department_id"]),
)
