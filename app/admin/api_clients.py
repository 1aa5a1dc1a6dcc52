"""Tài khoản hệ thống: the agency admin creates, rotates and revokes the API tokens of other systems (app/api).

A token is shown once, in the answer to the request that made it (never flashed: flashes live in the session),
and only its hash is kept."""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.accounts import api_clients
from app.core import clock
from app.core.errors import DomainError, NotFoundError
from app.extensions import db
from app.tenancy import roles as R

from .permissions import register_grants
from .scoping import on_agency_host
from .views import ORG_MENU

log = logging.getLogger("qlvb.admin.api_clients")


class ClientForm(FlaskForm):
    name = StringField("Tên hệ thống", validators=[DataRequired(message="Trường này là bắt buộc."), Length(max=120)])
    scopes = SelectMultipleField("Phạm vi quyền", choices=list(api_clients.SCOPES.items()),
                                 widget=widgets.ListWidget(prefix_label=False),
                                 option_widget=widgets.CheckboxInput(),
                                 validators=[DataRequired(message="Chọn ít nhất một phạm vi quyền.")])
    rate_limit = IntegerField("Số lần gọi tối đa mỗi phút (để trống: mặc định)", validators=[
        Optional(), NumberRange(1, api_clients.MAX_RATE_LIMIT, message="Từ 1 đến 100000.")])


class ActionForm(FlaskForm):
    pass


def _local(at: Any) -> str:
    return at.astimezone(clock.VN_TZ).strftime("%H:%M %d/%m/%Y") if at else "chưa"


class ApiClientView(BaseView):
    route_base = "/api-clients"
    default_view = "list"

    def _agency(self) -> Any:
        agency = getattr(g, "agency", None)
        if agency is None or agency.is_central:
            abort(404)
        return agency

    def _page(self, form: ClientForm, *, issued: api_clients.IssuedToken | None = None,
              errors: list[str] | None = None) -> Any:
        agency = self._agency()
        return self.render_template("admin/api_clients.html", form=form, action_form=ActionForm(),
                                    clients=api_clients.list_api_clients(agency.id), issued=issued,
                                    errors=errors or [], scopes=api_clients.SCOPES, local_time=_local,
                                    host=request.host)

    @expose("/", methods=["GET", "POST"])
    @has_access
    def list(self) -> Any:
        agency = self._agency()
        form = ClientForm()
        if request.method == "POST" and form.validate_on_submit():
            try:
                issued = api_clients.create_api_client(agency.id, agency.code, name=form.name.data,
                                                       scopes=form.scopes.data or [], rate_limit=form.rate_limit.data,
                                                       by_user_id=g.user.id)
            except DomainError as exc:
                db.session.rollback()
                return self._page(form, errors=[exc.message])
            page = self._page(ClientForm(formdata=None), issued=issued)
            db.session.commit()
            return page
        return self._page(form)

    @expose("/<int:client_id>/rotate", methods=["POST"])
    @has_access
    def rotate(self, client_id: int) -> Any:
        agency = self._agency()
        if not ActionForm().validate_on_submit():
            abort(400)
        try:
            issued = api_clients.rotate_api_client(agency.id, client_id, by_user_id=g.user.id)
        except NotFoundError:
            abort(404)  # another agency's client, or none
        except DomainError as exc:
            db.session.rollback()
            return self._page(ClientForm(formdata=None), errors=[exc.message])
        page = self._page(ClientForm(formdata=None), issued=issued)
        db.session.commit()
        return page

    @expose("/<int:client_id>/revoke", methods=["POST"])
    @has_access
    def revoke(self, client_id: int) -> Any:
        agency = self._agency()
        if not ActionForm().validate_on_submit():
            abort(400)
        try:
            info = api_clients.revoke_api_client(agency.id, client_id, by_user_id=g.user.id)
        except NotFoundError:
            abort(404)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(f"Đã thu hồi tài khoản hệ thống “{info.name}”: mã truy cập của nó không còn dùng được.", "success")
        return redirect(url_for("ApiClientView.list"))


def register(appbuilder: Any) -> None:
    appbuilder.add_view(ApiClientView, "Tài khoản hệ thống (API)", category=ORG_MENU, icon="fa-plug",
                        menu_cond=on_agency_host)
    register_grants(R.AGENCY_ADMIN, "ApiClientView", ("can_list", "can_rotate", "can_revoke"))
    register_grants(R.AGENCY_ADMIN, "Tài khoản hệ thống (API)", ("menu_access",))
