"""Mã định danh of this deployment's agencies, both ways.

An agency without an official identifier (a test agency, one just created) still exchanges inside the
deployment under a local one, ``DDD.DD.DD.Z00`` from its id: Z is no level-1 letter of QĐ 20/2020/QĐ-TTg, so it
never collides with a real code; an external axis would refuse it, as it should.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.interchange.fields import ORGAN_ID
from app.tenancy.models import Agency

_LOCAL = re.compile(r"([0-9]{3})\.([0-9]{2})\.([0-9]{2})\.Z00")


def organ_id_of(agency: Agency) -> str:
    if agency.org_identifier and ORGAN_ID.fullmatch(agency.org_identifier):
        return agency.org_identifier
    n = agency.id
    return f"{n // 10000 % 1000:03d}.{n // 100 % 100:02d}.{n % 100:02d}.Z00"


def is_organ_id(value: str) -> bool:
    return bool(ORGAN_ID.fullmatch(value or ""))


def local_agency(organ_id: str) -> Agency | None:
    """The active agency of this deployment with that mã định danh, if any."""
    if not is_organ_id(organ_id):
        return None
    agency = db.session.scalar(select(Agency).where(Agency.org_identifier == organ_id, Agency.active.is_(True))
                               .order_by(Agency.id).limit(1))
    if agency is not None:
        return agency
    match = _LOCAL.fullmatch(organ_id)
    if match is None:
        return None
    candidate = db.session.get(Agency, int("".join(match.groups())))
    if candidate is None or not candidate.active or organ_id_of(candidate) != organ_id:
        return None
    return candidate
