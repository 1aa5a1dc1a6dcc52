"""Dynamic choices for generated forms: the org structure and registers of the current agency."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app.core import revisions
from app.liaison.directory import external_organs
from app.tenancy import roles as R
from app.tenancy.queries import departments_of, list_agencies, staff_of

# Other packages add sources here (e.g. documents adds "document_types") without this module importing them.
# Their lists must be built from the org structure or document types (what the "org" revision follows).
EXTRA_SOURCES: dict[str, Callable[[int], list[tuple[str, str]]]] = {}
# (agency, source, filter) -> the choices; valid while the "org" revision stands, so every node sees a new
# department, person or document type at once.
_CACHE = revisions.DefinitionCache("org", maxsize=2048)


class AgencyChoices:
    """A ChoiceProvider bound to one agency."""

    def __init__(self, agency_id: int, agency_code: str | None = None):
        self.agency_id = agency_id
        self.agency_code = agency_code

    def choices_for(self, source: str, field: Any, context: Mapping[str, Any]) -> list[tuple[str, str]]:
        department_id = None
        if source in ("staff", "leaders"):
            filter_field = getattr(field, "filter_department_field", None)
            if filter_field and context.get(filter_field) not in (None, ""):
                try:
                    department_id = int(context[filter_field])
                except (TypeError, ValueError):
                    department_id = None
        key = (self.agency_id, self.agency_code if source == "agencies" else None, source, department_id)
        return list(_CACHE.get(key, lambda: tuple(self._build(source, department_id))))

    def _build(self, source: str, department_id: int | None) -> list[tuple[str, str]]:
        if source == "departments":
            return [(str(d.id), d.name) for d in departments_of(self.agency_id)]
        if source in ("staff", "leaders"):
            role = R.LEADER if source == "leaders" else None
            people = staff_of(self.agency_id, department_id=department_id, role=role)
            return [(str(s.user_id), _person_label(s)) for s in people]
        if source == "agencies":  # this deployment's agencies, then the directory of those outside it
            local = [(a.code, a.name) for a in list_agencies() if a.code != self.agency_code]
            return local + [(organ_id, f"{name} — ngoài hệ thống") for organ_id, name in external_organs()]
        if source in EXTRA_SOURCES:
            return EXTRA_SOURCES[source](self.agency_id)
        return []


def _person_label(staff: Any) -> str:
    parts = [staff.full_name]
    if staff.position is not None:
        parts.append(staff.position.name)
    if staff.department is not None:
        parts.append(staff.department.name)
    return " — ".join(parts)
