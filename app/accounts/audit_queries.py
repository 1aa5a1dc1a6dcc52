"""Reading the audit log: filtered pages for the admin, CSV and XLSX exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from app.core import clock
from app.extensions import db
from app.tenancy.models import Agency

from .audit import kind_label
from .models import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    agency_id: int | None = None
    user: str | None = None  # user name (e-mail), substring
    kind: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    success: bool | None = None


@dataclass(frozen=True)
class AuditEventInfo:
    id: int
    at: dt.datetime
    kind: str
    kind_label: str
    success: bool
    agency: str
    username: str
    ip: str
    user_agent: str
    target: str
    message: str


COLUMNS = [("at", "Thời điểm (giờ Việt Nam)"), ("kind_label", "Sự kiện"), ("success", "Thành công"),
           ("agency", "Cơ quan"), ("username", "Tài khoản"), ("ip", "Địa chỉ IP"), ("user_agent", "Trình duyệt"),
           ("target", "Đối tượng"), ("message", "Nội dung")]


def _stmt(flt: AuditFilter) -> Select[Any]:
    stmt = select(AuditEvent, Agency.name).outerjoin(Agency, Agency.id == AuditEvent.agency_id)
    if flt.agency_id is not None:
        stmt = stmt.where(AuditEvent.agency_id == flt.agency_id)
    if flt.user:
        stmt = stmt.where(func.lower(AuditEvent.username).contains(flt.user.strip().lower(), autoescape=True))
    if flt.kind:
        stmt = stmt.where(AuditEvent.kind == flt.kind)
    if flt.since is not None:
        stmt = stmt.where(AuditEvent.at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(AuditEvent.at < flt.until)
    if flt.success is not None:
        stmt = stmt.where(AuditEvent.success.is_(flt.success))
    return stmt


def _info(row: AuditEvent, agency_name: str | None) -> AuditEventInfo:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.UTC)
    target = f"{row.target_type}:{row.target_id}" if row.target_type else ""
    return AuditEventInfo(row.id, at, row.kind, kind_label(row.kind), row.success, agency_name or "",
                          row.username or "", row.ip or "", row.user_agent or "", target, row.message or "")


def search_events(flt: AuditFilter, *, page: int = 0, per_page: int = 50) -> tuple[list[AuditEventInfo], int]:
    stmt = _stmt(flt)
    total = db.session.scalar(select(func.count()).select_from(stmt.with_only_columns(AuditEvent.id).subquery()))
    rows = db.session.execute(stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                              .offset(max(page, 0) * per_page).limit(per_page))
    return [_info(e, name) for e, name in rows], int(total or 0)


def iter_events(flt: AuditFilter, *, limit: int = 200_000) -> Iterator[AuditEventInfo]:
    stmt = _stmt(flt).order_by(AuditEvent.at, AuditEvent.id).limit(limit).execution_options(yield_per=1000)
    for e, name in db.session.execute(stmt):
        yield _info(e, name)


def _cell(info: AuditEventInfo, key: str) -> Any:
    value = getattr(info, key)
    if key == "at":
        return value.astimezone(clock.VN_TZ).strftime("%Y-%m-%d %H:%M:%S")
    if key == "success":
        return "có" if value else "không"
    return _safe(value)


def _safe(value: Any) -> Any:
    # A spreadsheet must not run what a user typed (CSV/formula injection): text starting like a formula is quoted.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_csv(flt: AuditFilter) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([label for _, label in COLUMNS])
    for info in iter_events(flt):
        writer.writerow([_cell(info, key) for key, _ in COLUMNS])
    # UTF-8 with BOM so Excel opens Vietnamese correctly.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def export_xlsx(flt: AuditFilter) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Nhật ký")
    ws.append([label for _, label in COLUMNS])
    for info in iter_events(flt):
        ws.append([_cell(info, key) for key, _ in COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


__all__ = ["COLUMNS", "AuditEventInfo", "AuditFilter", "export_csv", "export_xlsx", "search_events"]
