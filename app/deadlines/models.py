"""Days an agency (or the whole province) adds to the public-holiday calendar, or makes up on a weekend."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.extensions import Model

OFF = "off"  # a weekday nobody works (bridge day, local holiday)
WORK = "work"  # a weekend day worked to make up a bridge day (ngày làm bù)
KINDS = (OFF, WORK)


class DayOff(Model):
    __tablename__ = "day_off"
    __table_args__ = (
        # NULL agency_id = the whole province; unique per scope and day (PostgreSQL treats NULLs as distinct,
        # so province-wide rows are kept unique by the service).
        UniqueConstraint("agency_id", "day", name="uq_day_off_agency_day"),
        Index("ix_day_off_day", "day", "agency_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), nullable=True)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False, default=OFF)
    name: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
