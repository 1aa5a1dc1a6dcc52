"""Agencies and their org structure. Every row below Agency carries agency_id: queries scope by it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import clock
from app.extensions import Model


class Agency(Model):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    short_name: Mapped[str | None] = mapped_column(String(120))
    abbreviation: Mapped[str] = mapped_column(String(32), nullable=False)
    governing_body: Mapped[str | None] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    org_identifier: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32), nullable=False, default="department")
    place: Mapped[str | None] = mapped_column(String(120))
    is_central: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    numbering_policy: Mapped[str] = mapped_column(String(16), nullable=False, default="single")
    # The agency signs and seals on paper (no certificates yet): it numbers at issue and attaches the scan.
    issues_on_paper: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)

    departments: Mapped[list[Department]] = relationship(back_populates="agency")

    def __str__(self) -> str:
        return self.name


class Department(Model):
    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("agency_id", "code", name="uq_department_agency_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False, index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    abbreviation: Mapped[str | None] = mapped_column(String(32))
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    agency: Mapped[Agency] = relationship(back_populates="departments")
    parent: Mapped[Department | None] = relationship(remote_side="Department.id")

    def __str__(self) -> str:
        return self.name


class Position(Model):
    """A job title (chức vụ) with the org role it implies by default."""

    __tablename__ = "position"
    __table_args__ = (UniqueConstraint("agency_id", "code", name="uq_position_agency_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False, index=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str | None] = mapped_column(String(32))
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    agency: Mapped[Agency] = relationship()

    def __str__(self) -> str:
        return self.name


class Staff(Model):
    """The official behind a login: agency, department, position. One row per ab_user."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), unique=True, nullable=False)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False, index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("position.id"))
    full_name: Mapped[str] = mapped_column(String(255), nullable=False)
    email: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    phone: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Where this official's personal signing key lives: "pkcs12" (a .p12 in the signing folder) or
    # "remote" (a CSC signing service, QLVB_CSC_URL); the PIN is typed at every signature either way.
    signing_method: Mapped[str | None] = mapped_column(String(16))
    remote_credential_id: Mapped[str | None] = mapped_column(String(255))

    agency: Mapped[Agency] = relationship()
    department: Mapped[Department | None] = relationship()
    position: Mapped[Position | None] = relationship()
    user = relationship("User", foreign_keys=[user_id])

    def __str__(self) -> str:
        return self.full_name
