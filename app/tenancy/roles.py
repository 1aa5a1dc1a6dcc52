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


def role_label(code: str) -> str:
    return ROLE_LABELS.get(code, code)
