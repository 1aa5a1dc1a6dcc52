"""Scope Flask-AppBuilder model views to the agency of the request's host."""

from __future__ import annotations

from typing import Any

from flask import abort, g
from flask_appbuilder.models.sqla.filters import FilterEqualFunction


def current_agency_id() -> int:
    agency = getattr(g, "agency", None)
    if agency is None:
        abort(404)
    return int(agency.id)


def on_agency_host() -> bool:
    """Menu condition of the pages that only exist within one agency (not on SoICT's central host)."""
    agency = getattr(g, "agency", None)
    return agency is not None and not agency.is_central


def agency_filter() -> list[list[Any]]:
    return [["agency_id", FilterEqualFunction, current_agency_id]]


class AgencyScopedMixin:
    """base_filters hide other agencies' rows from list, show, edit and delete (FAB applies them to get);
    the hooks below refuse a crafted write that names another agency's row anyway."""

    base_filters = agency_filter()

    def pre_add(self, item: Any) -> None:
        item.agency_id = current_agency_id()
        self._check_related(item)

    def pre_update(self, item: Any) -> None:
        if item.agency_id != current_agency_id():
            abort(404)
        self._check_related(item)

    def pre_delete(self, item: Any) -> None:
        if item.agency_id != current_agency_id():
            abort(404)

    def _check_related(self, item: Any) -> None:
        for attr in ("parent", "department", "position"):
            related = getattr(item, attr, None)
            if related is not None and getattr(related, "agency_id", None) != current_agency_id():
                abort(404)
