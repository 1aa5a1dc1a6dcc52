"""The official's own account: change password (also when forced), the audit origin of each request,
and the maintenance banner every page shows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo

from app.accounts import passwords
from app.accounts.audit import Origin, record_event, request_origin
from app.accounts.hashing import verify_password
from app.accounts.maintenance import MaintenanceInfo, upcoming_windows
from app.admin.permissions import register_common_grants
from app.admin.security import password_change_required, password_policy, rotate_session
from app.core import clock, revisions
from app.core.clock import VN_TZ
from app.core.errors import DomainError
from app.extensions import db

CHANGE_ENDPOINT = "ChangePasswordView.password"
# The windows not yet over when read; valid while the "maintenance" revision stands (a new window bumps it).
_WINDOWS = revisions.DefinitionCache("maintenance", maxsize=1)
# Where a user who must change their password may still go.
_FORCED_CHANGE_OPEN = {CHANGE_ENDPOINT, "static", "appbuilder.static", "AuthDBView.logout", "QlvbAuthDBView.logout",
                       "QlvbAuthLDAPView.logout", "AuthDBView.login", "QlvbAuthDBView.login",
                       "QlvbAuthLDAPView.login", "LocaleView.index", "pwa.manifest", "pwa.service_worker",
                       "pwa.offline"}


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Mật khẩu hiện tại", validators=[DataRequired(message="Trường này là bắt buộc.")])
    new = PasswordField("Mật khẩu mới", validators=[DataRequired(message="Trường này là bắt buộc.")])
    confirm = PasswordField("Nhập lại mật khẩu mới", validators=[
        DataRequired(message="Trường này là bắt buộc."),
        EqualTo("new", message="Hai lần nhập mật khẩu mới không khớp.")])


class ChangePasswordView(BaseView):
    route_base = "/account"
    default_view = "password"

    @expose("/password", methods=["GET", "POST"])
    @has_access
    def password(self) -> Any:
        user = g.user
        policy = password_policy()
        sec = passwords.security_of(user.id)
        if sec.directory_account:
            flash("Tài khoản của bạn xác thực bằng thư mục công vụ của tỉnh; hãy đổi mật khẩu tại hệ thống thư "
                  "điện tử công vụ.", "info")
        form = ChangePasswordForm()
        errors: list[str] = []
        if form.validate_on_submit():
            if not verify_password(user.password, form.current.data)[0]:
                errors.append("Mật khẩu hiện tại không đúng.")
            else:
                try:
                    passwords.set_password(user.id, form.new.data, policy, by_admin=False)
                except DomainError as exc:
                    db.session.rollback()
                    errors.extend(exc.details or [exc.message])
                else:
                    record_event("password_changed", target_type="user", target_id=user.id, message=user.username)
                    rotate_session(user.id)  # this browser goes on, with a new session
                    db.session.commit()
                    flash("Đã đổi mật khẩu.", "success")
                    return redirect(self.appbuilder.get_url_for_index)
        required = passwords.password_change_required(user.id, policy)
        return self.render_template("account/password.html", form=form, errors=errors, required=required,
                                    policy=policy, directory=sec.directory_account)


def _set_origin() -> None:
    user = getattr(g, "user", None)
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    agency = getattr(g, "agency", None)
    g._qlvb_origin_token = request_origin.set(Origin(
        ip=request.remote_addr, user_agent=request.headers.get("User-Agent", "")[:512],
        user_id=user.id if authenticated else None, username=user.username if authenticated else None,
        agency_id=agency.id if agency is not None else None))


def _reset_origin(_exc: BaseException | None) -> None:
    token = g.pop("_qlvb_origin_token", None)
    if token is not None:
        request_origin.reset(token)


def _force_password_change() -> Any:
    user = getattr(g, "user", None)
    if user is None or not getattr(user, "is_authenticated", False) or request.endpoint in _FORCED_CHANGE_OPEN:
        return None
    if request.blueprint == "api":  # the API never acts on a browser's session (app/api reads only its token)
        return None
    if not password_change_required(user.id):
        return None
    if request.method == "GET":
        flash("Bạn cần đổi mật khẩu trước khi tiếp tục (mật khẩu do quản trị cấp hoặc đã hết hạn).", "warning")
    return redirect(url_for(CHANGE_ENDPOINT))


def _banner(w: MaintenanceInfo) -> dict[str, str]:
    fmt = "%H:%M %d/%m/%Y"
    return {"title": w.title, "message": w.message, "starts": w.starts_at.astimezone(VN_TZ).strftime(fmt),
            "ends": w.ends_at.astimezone(VN_TZ).strftime(fmt)}


def _utc(value: Any) -> Any:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _unknown_fab_action() -> None:
    """FAB crashes (500) on /<view>/action/<name>/<pk> for a name that is not one of the view's actions:
    answer 404 before it gets there."""
    endpoint = request.endpoint or ""
    if not endpoint.endswith((".action", ".action_post")):
        return
    view = current_app.view_functions.get(endpoint)
    owner = getattr(view, "__self__", None) or _fab_view(endpoint.split(".")[0])
    name = (request.view_args or {}).get("name") or request.form.get("action")
    if owner is None or name not in (getattr(owner, "actions", None) or {}):
        abort(404)


def _fab_view(endpoint: str) -> Any:
    from app.extensions import appbuilder

    return next((v for v in appbuilder.baseviews if v.endpoint == endpoint), None)


def install(app: Flask, appbuilder: Any) -> None:
    appbuilder.add_view_no_menu(ChangePasswordView())
    register_common_grants("ChangePasswordView", ("can_password",))
    @app.errorhandler(429)
    def too_many_attempts(_exc: Exception) -> Any:
        return render_template("errors/error.html", title="Quá nhiều lần thử",
                               message="Bạn đã thử đăng nhập quá nhiều lần trong thời gian ngắn. "
                                       "Vui lòng đợi một phút rồi thử lại.", details=[]), 429

    app.before_request(_unknown_fab_action)
    app.before_request(_set_origin)
    app.before_request(_force_password_change)
    app.teardown_request(_reset_origin)

    @app.context_processor
    def maintenance_banner() -> dict[str, object]:
        if request.endpoint in ("static", "appbuilder.static"):
            return {}
        try:
            now = clock.now()
            windows = _WINDOWS.get("upcoming", lambda: tuple(upcoming_windows(now)))
            return {"maintenance_windows": [_banner(w) for w in windows if _utc(w.ends_at) > now]}
        except Exception:  # a banner must never take a page down (e.g. the database error page)
            current_app.logger.debug("maintenance banner unavailable", exc_info=True)
            return {"maintenance_windows": []}
