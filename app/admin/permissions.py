"""Which role may do what: the one table of grants, applied by `flask qlvb init` (idempotent)."""

from __future__ import annotations

import logging
from typing import Any

from app.extensions import db
from app.tenancy import roles as R

log = logging.getLogger(__name__)

CRUD = ("can_list", "can_show", "can_add", "can_edit", "can_delete")
READ = ("can_list", "can_show")
SELF_SERVICE = {
    "UserInfoEditView": ("can_this_form_get", "can_this_form_post"),
    "ResetMyPasswordView": ("can_this_form_get",),  # only a redirect to /account/password now
    "UserDBModelView": ("can_userinfo", "resetmypassword", "userinfoedit"),
}
STAFF_ROLES = (R.CLERK, R.LEADER, R.HEAD, R.SPECIALIST, R.LEGAL, R.AGENCY_ADMIN)

# view name -> permissions, per role. Staff pages add their views here as they are built.
GRANTS: dict[str, dict[str, tuple[str, ...]]] = {
    R.AGENCY_ADMIN: {
        "DepartmentAdminView": CRUD,
        "PositionAdminView": CRUD,
        "StaffAdminView": (*CRUD, "revoke_sessions"),
        "Cơ cấu tổ chức": ("menu_access",),
        "Phòng ban": ("menu_access",),
        "Chức vụ": ("menu_access",),
        "Cán bộ, tài khoản": ("menu_access",),
    },
}
# Granted to every staff role (the pages every official uses).
COMMON_GRANTS: dict[str, tuple[str, ...]] = dict(SELF_SERVICE)


def register_grants(role: str, view: str, permissions: tuple[str, ...]) -> None:
    """Let a staff page declare its grants next to its own code (called at import of the views module)."""
    GRANTS.setdefault(role, {})[view] = permissions


def register_common_grants(view: str, permissions: tuple[str, ...]) -> None:
    COMMON_GRANTS[view] = permissions


def sync_roles(appbuilder: Any) -> None:
    """Create every role and grant exactly what the tables above say (plus all to SoICT admins)."""
    sm = appbuilder.sm
    for code in sorted(R.ALL_ROLES):
        role = sm.find_role(code) or sm.add_role(code)
        wanted: dict[str, tuple[str, ...]] = {}
        if code in STAFF_ROLES:
            wanted.update(COMMON_GRANTS)
        wanted.update(GRANTS.get(code, {}))
        current = set(role.permissions)
        for view, perms in wanted.items():
            for perm in perms:
                pv = sm.find_permission_view_menu(perm, view) or sm.add_permission_view_menu(perm, view)
                if pv not in current:
                    # Appending directly: FAB's add_permission_role commits once per grant.
                    role.permissions.append(pv)
                    current.add(pv)
    admin = sm.find_role(R.SOICT_ADMIN)
    granted = set(admin.permissions)
    admin.permissions.extend(pv for pv in db.session.query(sm.permissionview_model).all() if pv not in granted)
    db.session.commit()
    log.info("roles synchronised: %s", ", ".join(sorted(R.ALL_ROLES)))
