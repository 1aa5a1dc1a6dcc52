"""Read-only queries of the tenancy domain."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_appbuilder.security.sqla.models import Role, User
from sqlalchemy import select

from app.extensions import db

from .hosts import HostRef, candidate_codes
from .models import Agency, Department, Position, Staff


@dataclass(frozen=True)
class AgencyRef:
    id: int
    code: str
    name: str
    domain: str
    abbreviation: str
    is_central: bool


def _ref(a: Agency) -> AgencyRef:
    return AgencyRef(a.id, a.code, a.name, a.domain, a.abbreviation, a.is_central)


def agency_for_host(ref: HostRef) -> AgencyRef | None:
    codes = candidate_codes(ref)
    if not codes:
        return None
    rows = db.session.scalars(select(Agency).where(Agency.code.in_(codes), Agency.active.is_(True))).all()
    by_code = {a.code: a for a in rows}
    for code in codes:
        if code in by_code:
            return _ref(by_code[code])
    return None


def agency_by_code(code: str) -> AgencyRef | None:
    a = db.session.scalar(select(Agency).where(Agency.code == code))
    return _ref(a) if a else None


def list_agencies(*, include_central: bool = False) -> list[AgencyRef]:
    stmt = select(Agency).where(Agency.active.is_(True)).order_by(Agency.id)
    if not include_central:
        stmt = stmt.where(Agency.is_central.is_(False))
    return [_ref(a) for a in db.session.scalars(stmt)]


def departments_of(agency_id: int) -> list[Department]:
    return list(
        db.session.scalars(
            select(Department)
            .where(Department.agency_id == agency_id, Department.active.is_(True))
            .order_by(Department.parent_id.is_not(None), Department.sort_order, Department.id)
        )
    )


def positions_of(agency_id: int) -> list[Position]:
    stmt = select(Position).where(Position.agency_id == agency_id).order_by(Position.sort_order)
    return list(db.session.scalars(stmt))


def staff_for_user(user_id: int) -> Staff | None:
    return db.session.scalar(select(Staff).where(Staff.user_id == user_id))


def staff_names(agency_id: int | None, *, user_ids: Iterable[int] | None = None) -> dict[int, str]:
    """{user id: full name} of an agency's staff (or of the given users anywhere), in one query."""
    stmt = select(Staff.user_id, Staff.full_name)
    if agency_id is not None:
        stmt = stmt.where(Staff.agency_id == agency_id)
    if user_ids is not None:
        stmt = stmt.where(Staff.user_id.in_(sorted(user_ids)))
    return {user_id: name for user_id, name in db.session.execute(stmt)}


def staff_of(agency_id: int, *, department_id: int | None = None, role: str | None = None) -> list[Staff]:
    stmt = select(Staff).where(Staff.agency_id == agency_id, Staff.active.is_(True)).order_by(Staff.full_name)
    if department_id is not None:
        stmt = stmt.where(Staff.department_id == department_id)
    rows = list(db.session.scalars(stmt))
    if role is not None:
        rows = [s for s in rows if role in {r.name for r in s.user.roles}]
    return rows


def agency_snapshot(agency_id: int) -> dict[str, object]:
    """The agency as plain data, in the shape of agencies/<code>.yaml (for export)."""
    a = db.session.get(Agency, agency_id)
    assert a is not None
    deps = list(
        db.session.scalars(
            select(Department)
            .where(Department.agency_id == agency_id, Department.active.is_(True))
            .order_by(Department.sort_order, Department.id)
        )
    )
    children: dict[int | None, list[Department]] = {}
    for d in deps:
        children.setdefault(d.parent_id, []).append(d)

    def tree(parent: int | None) -> list[dict[str, object]]:
        out = []
        for d in children.get(parent, []):
            node: dict[str, object] = {"code": d.code, "name": d.name, "abbreviation": d.abbreviation}
            sub = tree(d.id)
            if sub:
                node["children"] = sub
            out.append(node)
        return out

    return {
        "code": a.code,
        "name": a.name,
        "short_name": a.short_name,
        "abbreviation": a.abbreviation,
        "governing_body": a.governing_body,
        "domain": a.domain,
        "org_identifier": a.org_identifier,
        "kind": a.kind,
        "central": a.is_central,
        "place": a.place,
        "numbering": a.numbering_policy,
        "positions": [{"code": p.code, "name": p.name, "role": p.role} for p in positions_of(agency_id)],
        "departments": tree(None),
    }


def role_holders(agency_id: int) -> dict[str, tuple[str, ...]]:
    """Who can take a lane of each role: the agency's positions of that role, and active staff holding it."""
    out: dict[str, list[str]] = {}
    for name, role in db.session.execute(select(Position.name, Position.role).where(Position.agency_id == agency_id,
                                                                                    Position.role.is_not(None))):
        out.setdefault(role, []).append(name)
    rows = db.session.execute(
        select(Staff.full_name, Role.name).join(User, User.id == Staff.user_id)
        .join(User.roles).where(Staff.agency_id == agency_id, Staff.active.is_(True)))
    for full_name, role in rows:
        out.setdefault(role, []).append(full_name)
    return {role: tuple(dict.fromkeys(names)) for role, names in out.items()}


def position_names(agency_id: int) -> list[str]:
    return list(db.session.scalars(select(Position.name).where(Position.agency_id == agency_id)
                                   .order_by(Position.sort_order, Position.id)))
