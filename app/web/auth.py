"""Who is asking: the logged-in user as plain values for services (views never pass FAB objects down)."""

from __future__ import annotations

from flask import abort, g

from app.admin.security import request_is_deputy, request_staff
from app.delegations.queries import principals_of
from app.tenancy.queries import AgencyRef
from app.workflow.info import ActorRef


def current_agency() -> AgencyRef:
    agency = getattr(g, "agency", None)
    if agency is None:
        abort(404)
    return agency


def current_actor() -> ActorRef:
    """The logged-in official of the current agency; 403 for anyone else."""
    user = getattr(g, "user", None)
    if user is None or not user.is_authenticated:
        abort(403)
    agency = current_agency()
    staff = request_staff(user.id)
    if staff is None or staff.agency_id != agency.id or not staff.active:
        abort(403)
    roles = frozenset(r.name for r in user.roles)
    return ActorRef(user_id=user.id, agency_id=agency.id, roles=roles, department_id=staff.department_id,
                    on_behalf=_on_behalf(user.id, agency.id))


def _on_behalf(user_id: int, agency_id: int) -> tuple[ActorRef, ...]:
    """Whom the user stands in for today (ủy quyền): read only when the user's first query said there is someone."""
    if request_is_deputy(user_id) is False:
        return ()
    found = getattr(g, "_qlvb_on_behalf", None)
    if found is None or found[0] != (user_id, agency_id):
        found = ((user_id, agency_id), principals_of(user_id, agency_id))
        g._qlvb_on_behalf = found
    return found[1]
