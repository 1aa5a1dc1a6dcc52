"""Form versions (forms are versioned like diagrams) and the log of design and org-structure changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.extensions import Model

JsonType = JSON().with_variant(JSONB(), "postgresql")


class FormVersion(Model):
    """A published form definition; ``agency_id`` is None for the versions SoICT ships to everyone."""

    __tablename__ = "form_version"
    __table_args__ = (
        UniqueConstraint("agency_id", "key", "number", name="uq_form_version_number"),
        Index("ix_form_version_lookup", "key", "agency_id", "number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), nullable=True)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    yaml_text: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)


class DesignChange(Model):
    """Who changed which diagram, form or org unit, when, and what it was before and after."""

    __tablename__ = "design_change"
    __table_args__ = (Index("ix_design_change_agency_at", "agency_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    area: Mapped[str] = mapped_column(String(16), nullable=False)  # diagram | form | department | position
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    summary: Mapped[str] = mapped_column(Text, default="", nullable=False)
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)


class ProcessDefinition(Model):
    """A process an agency (or SoICT, for everyone: ``agency_id`` None) created without code (issue #12.4).

    Its steps are the generic kinds (a step that records a result, a review that approves or returns); its
    routing is an ordinary diagram under ``key``, edited and published in the designer like any other."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("key", name="uq_process_definition_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), nullable=True, index=True)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    start_form_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(default=True, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
