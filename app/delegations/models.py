"""One delegation: who is away (the principal), who acts for them (the deputy), from which day to which."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.extensions import Model


class Delegation(Model):
    __tablename__ = "delegation"
    __table_args__ = (
        # "Whom do I act for today?" (every request of a deputy) and "who acts for me?" (overlap checks).
        Index("ix_delegation_deputy", "deputy_id", "ends_on"),
        Index("ix_delegation_principal", "principal_id", "ends_on"),
        Index("ix_delegation_agency", "agency_id", "starts_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    principal_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    # Whole days, in Vietnam time, both included; ending early moves ends_on back (ended_at says when).
    starts_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    # When the deputy was told the delegation started (at creation if it starts today, else by the job).
    notified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
