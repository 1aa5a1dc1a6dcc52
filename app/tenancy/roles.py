"""Org roles: the codes lanes name, and the Vietnamese labels people see."""

from __future__ import annotations

SOICT_ADMIN = "soict_admin"
AGENCY_ADMIN = "agency_admin"
LEADER = "leader"
HEAD = "head"
SPECIALIST = "specialist"
CLERK = "clerk"
LEGAL = "legal"

ROLE_LABELS: dict[str, str] = {
    SOICT_ADMIN: "Quản trị Sở TTTT",
    AGENCY_ADMIN: "Quản trị cơ quan",
    LEADER: "Lãnh đạo cơ quan",
    HEAD: "Trưởng phòng",
    SPECIALIST: "Chuyên viên",
    CLERK: "Văn thư",
    LEGAL: "Pháp chế",
}

# Roles a workflow lane may name (everything but the two admin roles).
WORKFLOW_ROLES = frozenset({LEADER, HEAD, SPECIALIST, CLERK, LEGAL})
ALL_ROLES = frozenset(ROLE_LABELS)
# An agency admin may grant these to its own staff; only SoICT grants agency_admin.
AGENCY_GRANTABLE = WORKFLOW_ROLES
# Roles that open every document of the agency: an agency admin grants them only if they hold them too
# (a leader who also administers the agency); otherwise SoICT does. Nobody changes their own roles.
PRIVILEGED = frozenset({LEADER})


def agency_admin_grantable(own_roles: frozenset[str] | set[str]) -> frozenset[str]:
    """What an agency admin holding ``own_roles`` may grant: the workflow roles, privileged ones only if held."""
    return (AGENCY_GRANTABLE - PRIVILEGED) | (PRIVILEGED & frozenset(own_roles))


def role_label(code: str) -> str:
    return ROLE_LABELS.get(code, code)
