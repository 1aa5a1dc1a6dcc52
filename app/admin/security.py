"""Flask-AppBuilder security manager: a login is valid only on its own agency's host."""

from __future__ import annotations

import logging
from typing import Any

from flask import g
from flask_appbuilder.security.sqla.manager import SecurityManager

from app.tenancy import roles as R
from app.tenancy.queries import staff_for_user

log = logging.getLogger("qlvb.security")


def user_allowed_here(user: Any) -> bool:
    """SoICT admins work on the central domain; everyone else on their own agency's domain."""
    agency = getattr(g, "agency", None)
    if agency is None or user is None:
        return False
    role_names = {r.name for r in user.roles}
    if agency.is_central:
        return R.SOICT_ADMIN in role_names
    staff = staff_for_user(user.id)
    return staff is not None and staff.active and staff.agency_id == agency.id


class QlvbSecurityManager(SecurityManager):
    def auth_user_db(self, username: str, password: str) -> Any:
        user = super().auth_user_db((username or "").strip().lower(), password)
        return self._only_here(user, username)

    def auth_user_ldap(self, username: str, password: str) -> Any:
        user = super().auth_user_ldap((username or "").strip().lower(), password)
        return self._only_here(user, username)

    def _only_here(self, user: Any, username: str) -> Any:
        if user is not None and not user_allowed_here(user):
            agency = getattr(g, "agency", None)
            log.warning("login of %s refused on host of %s: account belongs elsewhere", username,
                        agency.code if agency else "?")
            return None
        return user

    def load_user(self, pk: int) -> Any:
        # A session cookie is only honoured on the host where it was issued (defence in depth:
        # cookies are host-scoped already, but a shared parent-domain cookie must not cross agencies).
        user = super().load_user(pk)
        if user is not None and not user_allowed_here(user):
            return None
        return user
