"""Assigned work and what happens to it: reports, extension requests, linked documents, files."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import clock
from app.extensions import Model


class WorkItem(Model):
    """One piece of assigned work. ``instance_id`` is its task_assignment workflow."""

    __tablename__ = "work_item"
    __table_args__ = (
        Index("ix_work_item_agency_status_deadline", "agency_id", "status", "deadline"),
        Index("ix_work_item_lead_user", "lead_user_id", "status"),
        Index("ix_work_item_assigned_by", "assigned_by_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    lead_user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    deadline: Mapped[dt.date] = mapped_column(Date, nullable=False)
    original_deadline: Mapped[dt.date] = mapped_column(Date, nullable=False)
    percent: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")  # open | done | evaluated
    rating: Mapped[str | None] = mapped_column(String(16))
    evaluation_comment: Mapped[str | None] = mapped_column(Text)
    attachments_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    instance_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    evaluated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    members: Mapped[list[WorkMember]] = relationship(order_by="WorkMember.id", cascade="all, delete-orphan")
    reports: Mapped[list[WorkReport]] = relationship(order_by="WorkReport.id", cascade="all, delete-orphan")
    extensions: Mapped[list[WorkExtension]] = relationship(order_by="WorkExtension.id", cascade="all, delete-orphan")
    links: Mapped[list[WorkLink]] = relationship(order_by="WorkLink.id", cascade="all, delete-orphan")
    files: Mapped[list[WorkFile]] = relationship(order_by="WorkFile.id", cascade="all, delete-orphan")


class WorkMember(Model):
    """A coordinating person (``kind='user'``) or department (``kind='department'``)."""

    __tablename__ = "work_member"
    __table_args__ = (
        UniqueConstraint("work_item_id", "kind", "ref_id", name="uq_work_member"),
        Index("ix_work_member_ref", "kind", "ref_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    ref_id: Mapped[int] = mapped_column(Integer, nullable=False)


class WorkReport(Model):
    __tablename__ = "work_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id", ondelete="CASCADE"), nullable=False,
                                              index=True)
    percent: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)


class WorkExtension(Model):
    """A request for a later deadline and the leader's decision on it."""

    __tablename__ = "work_extension"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id", ondelete="CASCADE"), nullable=False,
                                              index=True)
    old_deadline: Mapped[dt.date] = mapped_column(Date, nullable=False)
    new_deadline: Mapped[dt.date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")  # pending|approved|refused
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decision_comment: Mapped[str | None] = mapped_column(Text)


class WorkLink(Model):
    """A document (or any other subject) the work is about, by type and id: no copy, no foreign key."""

    __tablename__ = "work_link"
    __table_args__ = (
        UniqueConstraint("work_item_id", "subject_type", "subject_id", name="uq_work_link"),
        Index("ix_work_link_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id", ondelete="CASCADE"), nullable=False)
    subject_type: Mapped[str] = mapped_column(String(32), nullable=False)
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)


class WorkFile(Model):
    """A file given with the work or with a report. Bytes live in the documents' content-addressed storage."""

    __tablename__ = "work_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id", ondelete="CASCADE"), nullable=False,
                                              index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("work_report.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(120), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(255), nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
