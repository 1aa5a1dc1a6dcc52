"""Who may see and who may change a dossier: the rule lives here, once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select

from app.tenancy.models import Staff
from app.workflow.info import ActorRef

from .models import Dossier

# Clerks keep the agency's archive (Decree 30 Art 28–31) and leaders direct it: they see every dossier.
SEE_ALL_ROLES = frozenset({"clerk", "leader", "agency_admin"})
# Clerks also close, reopen and record deposits for any dossier.
MANAGE_ALL_ROLES = frozenset({"clerk"})


def _own_staff_ids(actor: ActorRef) -> Any:
    return select(Staff.id).where(Staff.user_id == actor.user_id).scalar_subquery()


def visible_clause(actor: ActorRef) -> Any:
    """SQL: dossiers of the actor's agency that the actor may see."""
    same_agency = Dossier.agency_id == actor.agency_id
    if SEE_ALL_ROLES & actor.roles:
        return same_agency
    own = Dossier.responsible_staff_id == _own_staff_ids(actor)
    if "head" in actor.roles and actor.department_id is not None:
        return and_(same_agency, or_(own, Dossier.department_id == actor.department_id))
    return and_(same_agency, own)


def can_manage(dossier: Dossier, actor: ActorRef, responsible_user_id: int | None) -> bool:
    """The responsible person files and orders documents; clerks may do it for anyone."""
    if dossier.agency_id != actor.agency_id:
        return False
    return bool(MANAGE_ALL_ROLES & actor.roles) or responsible_user_id == actor.user_id
