"""Tasks left open by officials whose accounts were revoked or moved: the agency admin hands them on."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, g
from flask_appbuilder import BaseView, expose, has_access

from app.accounts.services import open_reassignments
from app.core import clock
from app.tenancy import roles as R

from .permissions import register_grants
from .scoping import on_agency_host
from .views import ORG_MENU


def _local(at: dt.datetime) -> str:
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return at.astimezone(clock.VN_TZ).strftime("%H:%M %d/%m/%Y")


class ReassignmentView(BaseView):
    route_base = "/reassign"
    default_view = "list"

    @expose("/")
    @has_access
    def list(self) -> Any:
        agency = getattr(g, "agency", None)
        if agency is None or agency.is_central:
            abort(404)
        from app.designer.diagrams import PROCESS_NAMES

        return self.render_template("admin/reassign.html", items=open_reassignments(agency.id),
                                    local_time=lambda at: _local(at), process_names=PROCESS_NAMES)


def register(appbuilder: Any) -> None:
    appbuilder.add_view(ReassignmentView, "Công việc cần giao lại", category=ORG_MENU, icon="fa-exchange",
                        menu_cond=on_agency_host)
    register_grants(R.AGENCY_ADMIN, "ReassignmentView", ("can_list",))
    register_grants(R.AGENCY_ADMIN, "Công việc cần giao lại", ("menu_access",))
