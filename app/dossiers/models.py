"""Work dossiers (hồ sơ công việc) and the documents filed in them, without copies (Phụ lục VI III).

Columns follow the dossier list of Phụ lục V and the dossier metadata of Phụ lục VI Mục III
(FileCode = OrganId + FileCatalog (year) + FileNotation; Title; Maintenance; Rights; Creator; …).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import clock
from app.extensions import Model

# Thời hạn bảo quản (Maintenance): years, or permanent.
RETENTIONS: dict[str, str] = {
    "5": "5 năm",
    "10": "10 năm",
    "15": "15 năm",
    "20": "20 năm",
    "30": "30 năm",
    "50": "50 năm",
    "70": "70 năm",
    "vinh_vien": "Vĩnh viễn",
}
# Chế độ sử dụng (Rights). Classified dossiers are out of scope, like classified documents.
ACCESS_LEVELS: dict[str, str] = {
    "cong_khai": "Công khai",
    "noi_bo": "Sử dụng nội bộ",
    "han_che": "Hạn chế sử dụng",
}
STATUSES: dict[str, str] = {"open": "Đang mở", "closed": "Đã đóng", "deposited": "Đã nộp lưu"}


class Dossier(Model):
    __tablename__ = "dossier"
    __table_args__ = (
        UniqueConstraint("agency_id", "year", "code", name="uq_dossier_code"),
        Index("ix_dossier_listing", "agency_id", "year", "status"),
        Index("ix_dossier_deposit", "status", "closed_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)  # FileCatalog
    code: Mapped[str] = mapped_column(String(20), nullable=False)  # FileNotation (số và ký hiệu hồ sơ)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    retention: Mapped[str] = mapped_column(String(16), nullable=False)  # key of RETENTIONS
    access: Mapped[str] = mapped_column(String(16), nullable=False, default="noi_bo")  # key of ACCESS_LEVELS
    language: Mapped[str] = mapped_column(String(50), nullable=False, default="Tiếng Việt")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    responsible_staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    opened_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    deposited_on: Mapped[dt.date | None] = mapped_column(Date)
    # The last deposit reminder sent since the dossier was closed: None, "due_soon" or "overdue"
    # (services.take_deposit_reminders); reopening clears it, so the job reads only dossiers not yet told.
    deposit_reminder: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)

    entries: Mapped[list[DossierDocument]] = relationship(
        back_populates="dossier", order_by="DossierDocument.position", cascade="all, delete-orphan"
    )


class DossierDocument(Model):
    """A document filed in a dossier: a link, never a copy; one document may sit in many dossiers."""

    __tablename__ = "dossier_document"
    __table_args__ = (Index("ix_dossier_document_document", "document_id"),)

    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)  # số thứ tự văn bản trong hồ sơ
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))

    dossier: Mapped[Dossier] = relationship(back_populates="entries")
