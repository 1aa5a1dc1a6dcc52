"""Opinion requests, their reviewers (one row per person or agency asked) and files."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import clock
from app.extensions import Model


class OpinionRequest(Model):
    """A request for opinions. A copy in another agency has ``origin_reviewer_id`` set."""

    __tablename__ = "opinion_request"
    __table_args__ = (Index("ix_opinion_request_agency_status", "agency_id", "status", "deadline"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False, default="")
    requester_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False, index=True)
    deadline: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")  # open | consolidated
    summary: Mapped[str | None] = mapped_column(Text)
    instance_id: Mapped[int | None] = mapped_column(Integer)
    # A copy: the reviewer row of the original request it answers (in the requester's agency).
    # No foreign key: the two tables would point at each other (plain id, unique: one copy per reviewer).
    origin_reviewer_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    origin_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    consolidated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    reviewers: Mapped[list[OpinionReviewer]] = relationship(
        order_by="OpinionReviewer.id", cascade="all, delete-orphan", foreign_keys="OpinionReviewer.request_id",
        back_populates="request")
    files: Mapped[list[OpinionFile]] = relationship(order_by="OpinionFile.id", cascade="all, delete-orphan")


class OpinionReviewer(Model):
    """Someone asked: a person (``user_id``) of ``agency_id``, or, with no person, that agency's leadership."""

    __tablename__ = "opinion_reviewer"
    __table_args__ = (Index("ix_opinion_reviewer_user", "user_id", "answered_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("opinion_request.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    external: Mapped[bool] = mapped_column(nullable=False, default=False)
    answer: Mapped[str | None] = mapped_column(String(32))  # agree | agree_with_comments | disagree
    comment: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    request: Mapped[OpinionRequest] = relationship(foreign_keys=[request_id], back_populates="reviewers")


class OpinionFile(Model):
    """The draft sent for opinions (``reviewer_id`` empty) or a file given with an answer."""

    __tablename__ = "opinion_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("opinion_request.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("opinion_reviewer.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(120), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(255), nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
