"""Sự cố quy trình: the timers and automatic steps of this agency that failed, and what the admin does about them."""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.core.errors import DomainError
from app.extensions import db
from app.tenancy import roles as R
from app.web.auth import current_actor
from app.workflow import incidents
from app.workflow.steps import process_kind

from .designer import DESIGN_MENU
from .permissions import register_grants
from .scoping import on_agency_host

log = logging.getLogger("qlvb.admin.incidents")

SUBJECTS = {"incoming": "Văn bản đến", "outgoing": "Văn bản đi", "task": "Công việc", "opinion": "Phiếu xin ý kiến"}


def _process_label(key: str) -> str:
    kind = process_kind(key)
    return kind.label if kind is not None else "Quy trình riêng của cơ quan"


class IncidentView(BaseView):
    route_base = "/incidents"
    default_view = "list"

    def _agency_id(self) -> int:
        agency = getattr(g, "agency", None)
        if agency is None or agency.is_central:
            abort(404)
        return int(agency.id)

    @expose("/")
    @has_access
    def list(self) -> Any:
        agency_id = self._agency_id()
        show_all = request.args.get("all") == "1"
        items = incidents.list_incidents(agency_id, include_resolved=show_all)
        return self.render_template("admin/incidents.html", items=items, show_all=show_all,
                                    process_label=_process_label, subjects=SUBJECTS,
                                    resolutions=incidents.RESOLUTION_LABELS)

    def _act(self, incident_id: int, action: Any, done: str) -> Any:
        self._agency_id()
        actor = current_actor()
        try:
            action(actor)
            db.session.commit()
            flash(done, "success")
        except DomainError as exc:
            # A failed retry is recorded on the incident (attempts, new error): keep that, drop the rest.
            db.session.commit()
            log.warning("incident %s: action by user %s refused: %s", incident_id, actor.user_id, exc.log)
            flash(exc.message, "danger")
        return redirect(url_for("IncidentView.list"))

    @expose("/<int:incident_id>/retry", methods=["POST"])
    @has_access
    def retry(self, incident_id: int) -> Any:
        return self._act(incident_id, lambda actor: incidents.retry_incident(incident_id, actor),
                         "Đã chạy lại quy trình; sự cố đã được giải quyết.")

    @expose("/<int:incident_id>/skip", methods=["POST"])
    @has_access
    def skip(self, incident_id: int) -> Any:
        return self._act(incident_id, lambda actor: incidents.skip_incident(
            incident_id, actor, reason=request.form.get("reason")), "Đã bỏ qua bước lỗi; quy trình chạy tiếp.")

    @expose("/<int:incident_id>/cancel", methods=["POST"])
    @has_access
    def cancel(self, incident_id: int) -> Any:
        return self._act(incident_id, lambda actor: incidents.cancel_incident(
            incident_id, actor, reason=request.form.get("reason")), "Đã hủy quy trình gặp sự cố.")


def register(appbuilder: Any) -> None:
    appbuilder.add_view(IncidentView, "Sự cố quy trình", category=DESIGN_MENU, icon="fa-exclamation-triangle",
                        menu_cond=on_agency_host)
    register_grants(R.AGENCY_ADMIN, "IncidentView", ("can_list", "can_retry", "can_skip", "can_cancel"))
    register_grants(R.AGENCY_ADMIN, "Sự cố quy trình", ("menu_access",))
