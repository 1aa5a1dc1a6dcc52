"""State changes of the tenancy domain: import/export of agencies, org structure."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from app.core import signals
from app.extensions import db

from .definitions import AgencyDef, load_agency_files, render_agency_yaml
from .models import Agency, Department, Position
from .queries import agency_snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    departments: int
    positions: int


SIGNING_METHODS = {"pkcs12": "Tệp khóa cá nhân (PKCS#12) trên máy chủ", "remote": "Dịch vụ ký số từ xa (CSC)"}


def set_signing_method(staff_id: int, *, agency_id: int | None, method: str | None,
                       remote_credential_id: str | None) -> None:
    """The agency admin chooses where an official's personal key lives (no secret is stored here)."""
    from app.core.errors import NotFoundError, ValidationError

    from .models import Staff

    staff = db.session.get(Staff, staff_id)
    if staff is None or (agency_id is not None and staff.agency_id != agency_id):
        raise NotFoundError("Không tìm thấy cán bộ")
    method = method or "pkcs12"
    if method not in SIGNING_METHODS:
        raise ValidationError("Cách ký số không hợp lệ", field_errors={"signing_method": ["Không hợp lệ"]})
    staff.signing_method = method
    staff.remote_credential_id = (remote_credential_id or "").strip() or None if method == "remote" else None
    db.session.flush()
    log.info("signing method of staff %s set to %s", staff_id, method)


def import_agency(defn: AgencyDef) -> tuple[Agency, bool]:
    """Create or update one agency from its definition. Idempotent: a second run changes nothing."""
    agency = db.session.scalar(select(Agency).where(Agency.code == defn.code))
    created = agency is None
    if agency is None:
        agency = Agency(code=defn.code)
        db.session.add(agency)
    agency.name = defn.name
    agency.short_name = defn.short_name
    agency.abbreviation = defn.abbreviation
    agency.governing_body = defn.governing_body
    agency.domain = defn.domain
    agency.org_identifier = defn.org_identifier
    agency.kind = defn.kind
    agency.place = defn.place
    agency.is_central = defn.is_central
    agency.numbering_policy = defn.numbering_policy
    agency.active = True
    db.session.flush()

    existing = {d.code: d for d in db.session.scalars(select(Department).where(Department.agency_id == agency.id))}
    wanted: set[str] = set()
    for ddef, parent_code, order in defn.walk_departments():
        wanted.add(ddef.code)
        dep = existing.get(ddef.code)
        if dep is None:
            dep = Department(agency_id=agency.id, code=ddef.code)
            db.session.add(dep)
            existing[ddef.code] = dep
        dep.name = ddef.name
        dep.abbreviation = ddef.abbreviation
        dep.sort_order = order
        dep.active = True
        db.session.flush()
        dep.parent_id = existing[parent_code].id if parent_code else None
    for code, dep in existing.items():
        if code not in wanted and dep.active:
            # Never delete: documents and history may point at it.
            dep.active = False

    positions = {p.code: p for p in db.session.scalars(select(Position).where(Position.agency_id == agency.id))}
    for order, pdef in enumerate(defn.positions):
        pos = positions.get(pdef.code)
        if pos is None:
            pos = Position(agency_id=agency.id, code=pdef.code)
            db.session.add(pos)
        pos.name = pdef.name
        pos.role = pdef.role
        pos.sort_order = order
    db.session.flush()
    signals.agency_imported.send(agency.code, agency_id=agency.id)
    return agency, created


def import_agencies(directory: Path) -> ImportResult:
    defs = load_agency_files(directory)
    created = updated = 0
    for defn in defs:
        _, was_created = import_agency(defn)
        created += was_created
        updated += not was_created
    deps = sum(1 for d in defs for _ in d.walk_departments())
    pos = sum(len(d.positions) for d in defs)
    log.info("imported %d agencies (%d new) from %s", len(defs), created, directory)
    return ImportResult(created=created, updated=updated, departments=deps, positions=pos)


def export_agencies(directory: Path, *, codes: list[str] | None = None) -> list[Path]:
    """Write the DB state back to agencies/<code>.yaml, keeping each file's comments and key order."""
    directory.mkdir(parents=True, exist_ok=True)
    stmt = select(Agency).order_by(Agency.id)
    if codes:
        stmt = stmt.where(Agency.code.in_(codes))
    written = []
    for agency in db.session.scalars(stmt):
        path = directory / f"{agency.code}.yaml"
        existing = path.read_text(encoding="utf-8") if path.exists() else None
        text = render_agency_yaml(existing, agency_snapshot(agency.id))
        if text != existing:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
