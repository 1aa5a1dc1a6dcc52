"""Ủy quyền: a person's own delegations (create, end, list), and what deputies did on their behalf; the agency
admin sees and manages every delegation of the agency."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.admin.permissions import register_common_grants
from app.core import clock
from app.core.errors import DomainError, ValidationError
from app.delegations import queries as dlq
from app.delegations import services as dls
from app.extensions import db
from app.tenancy import roles as R

from . import subjects
from .auth import current_actor
from .choices import AgencyChoices

log = logging.getLogger("qlvb.delegations")
STATE_LABELS = {"upcoming": "Sắp bắt đầu", "active": "Đang hiệu lực", "ended": "Đã kết thúc"}


def _day(name: str) -> dt.date:
    raw = (request.form.get(name) or "").strip()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError("Ngày không hợp lệ (dd/mm/yyyy)", field_errors={name: ["Ngày không hợp lệ"]}) from None


def _user_id(name: str) -> int:
    raw = (request.form.get(name) or "").strip()
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationError("Vui lòng chọn người được ủy quyền", field_errors={name: ["Chưa chọn"]})
    return int(raw)


class DelegationView(BaseView):
    route_base = "/delegations"
    default_view = "index"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self) -> Any:
        actor = current_actor()
        is_admin = R.AGENCY_ADMIN in actor.roles
        may_delegate = bool(dls.DELEGATING_ROLES & actor.roles)
        if request.method == "POST":
            try:
                principal = _user_id("principal_id") if is_admin and request.form.get("principal_id") \
                    else actor.user_id
                made = dls.create_delegation(actor.agency_id, principal_id=principal, deputy_id=_user_id("deputy_id"),
                                             starts_on=_day("starts_on"), ends_on=_day("ends_on"),
                                             reason=request.form.get("reason", ""), by_user_id=actor.user_id,
                                             by_admin=is_admin)
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                log.info("delegation refused for user %s: %s", actor.user_id, exc.log)
                flash(exc.message, "danger")
            else:
                flash(f"Đã ủy quyền cho {made.deputy_name} từ {made.starts_on:%d/%m/%Y} đến "
                      f"{made.ends_on:%d/%m/%Y}.", "success")
                return redirect(url_for("DelegationView.index"))
        today = clock.today()
        mine = dlq.delegations_of(actor.user_id, actor.agency_id)
        agency_wide = dlq.delegations_of_agency(actor.agency_id) if is_admin else []
        done = dlq.done_on_behalf(actor.user_id, actor.agency_id)
        about = subjects.describe(actor.agency_id, [(d.subject_type, d.subject_id) for d in done])
        people = [(v, label) for v, label in AgencyChoices(actor.agency_id).choices_for("staff", None, {})
                  if v != str(actor.user_id)]
        return self.render_template(
            "delegations/index.html", mine=mine, agency_wide=agency_wide, done=done, about=about, today=today,
            states=STATE_LABELS, people=people, is_admin=is_admin, may_delegate=may_delegate,
            everyone=AgencyChoices(actor.agency_id).choices_for("staff", None, {}), me=actor.user_id,
            form=request.form if request.method == "POST" else {})

    @expose("/<int:delegation_id>/end", methods=["POST"])
    @has_access
    def end(self, delegation_id: int) -> Any:
        actor = current_actor()
        found = dlq.get_delegation(delegation_id, actor.agency_id)
        is_admin = R.AGENCY_ADMIN in actor.roles
        if found is None or (found.principal_id != actor.user_id and not is_admin):
            abort(404)
        try:
            dls.end_delegation(delegation_id, actor.agency_id, by_user_id=actor.user_id, by_admin=is_admin)
            db.session.commit()
            flash(f"Đã kết thúc ủy quyền cho {found.deputy_name}.", "success")
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "warning")
        return redirect(url_for("DelegationView.index"))


register_common_grants("DelegationView", ("can_index", "can_end"))


def register(appbuilder: Any) -> None:
    appbuilder.add_view_no_menu(DelegationView)
