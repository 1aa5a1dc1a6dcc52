"""A week of a calendar (its state: draft -> approved -> published), its events, and iCalendar feed tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import clock
from app.extensions import Model

DRAFT, APPROVED, PUBLISHED = "draft", "approved", "published"
STATES = (DRAFT, APPROVED, PUBLISHED)
LEADERSHIP = "agency"  # scope key of the leadership calendar; departments are "dept:<id>"


def scope_key(department_id: int | None) -> str:
    return LEADERSHIP if department_id is None else f"dept:{department_id}"


class CalendarWeek(Model):
    __tablename__ = "calendar_week"
    __table_args__ = (UniqueConstraint("agency_id", "scope_key", "week_start", name="uq_calendar_week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), nullable=True)
    scope_key: Mapped[str] = mapped_column(String(32), nullable=False)
    week_start: Mapped[dt.date] = mapped_column(Date, nullable=False)  # a Monday
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=DRAFT)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)


calendar_event_participant = Table(
    "calendar_event_participant",
    Model.metadata,
    Column("event_id", ForeignKey("calendar_event.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("ab_user.id"), primary_key=True, index=True),
)


class CalendarEvent(Model):
    __tablename__ = "calendar_event"
    __table_args__ = (
        Index("ix_calendar_event_agency_day", "agency_id", "day", "start_time"),
        Index("ix_calendar_event_week", "week_id", "day", "start_time"),
        Index("ix_calendar_event_chair", "chair_user_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week_id: Mapped[int] = mapped_column(ForeignKey("calendar_week.id", ondelete="CASCADE"), nullable=False)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    start_time: Mapped[dt.time] = mapped_column(Time, nullable=False)
    end_time: Mapped[dt.time | None] = mapped_column(Time, nullable=True)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    location: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    chair_user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    chair_name: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    participants: Mapped[str] = mapped_column(Text, nullable=False, default="")  # thành phần, as printed
    preparing_unit: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)

    week: Mapped[CalendarWeek] = relationship()


class CalendarFeed(Model):
    """A secret feed address: calendar apps fetch it without a session, so the token is the credential."""

    __tablename__ = "calendar_feed"
    __table_args__ = (UniqueConstraint("user_id", "scope_key", name="uq_calendar_feed_user_scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    # "person" (events the user chairs or attends) or a calendar's scope key ("agency", "dept:<id>").
    scope_key: Mapped[str] = mapped_column(String(32), nullable=False)
    token: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
