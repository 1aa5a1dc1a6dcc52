"""Flask-AppBuilder security manager: who may log in, where, and how (database, LDAP, or LDAP then database).

A login is valid only on its own agency's host. Database passwords follow the policy of app.accounts
(argon2, expiry, history); LDAP only proves the password of an account an administrator created.
Every attempt is counted before its password is checked (app.accounts.throttle: progressive delay shared by
every node, a trusted-device cookie so the owner is never locked out); unknown names cost the same time as
known ones. A session lives in the database (app.accounts.sessions): logout, a password change or an admin's
revocation end every copy of its cookie. FAB's JSON API (/api/v1/…: token login, refresh, menu) is not served.
Every login, failed login (with its reason) and logout lands in the audit log.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, g, make_response, redirect, request, session, url_for
from flask_appbuilder._compat import as_unicode
from flask_appbuilder.api import BaseApi
from flask_appbuilder.baseviews import BaseView
from flask_appbuilder.security.decorators import has_access, no_cache
from flask_appbuilder.security.forms import LoginForm_db
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView, AuthLDAPView, UserDBModelView, UserLDAPModelView
from flask_appbuilder.views import expose
from flask_babel import lazy_gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import login_user
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo

from app.accounts import passwords, sessions, throttle
from app.accounts.audit import record_event
from app.accounts.hashing import dummy_verify, verify_password
from app.accounts.models import AccountSecurity
from app.accounts.policy import PasswordPolicy
from app.core import revisions
from app.core.errors import DomainError, NotFoundError
from app.delegations.queries import acting_flag
from app.extensions import db
from app.tenancy import roles as R
from app.tenancy.models import Staff
from app.tenancy.queries import staff_for_user

from .oidc import OidcLoginMixin, oidc_label, verified_email
from .values import VietnameseValues

log = logging.getLogger("qlvb.security")

SESSION_VERSION_KEY = "_qlvb_sv"
SESSION_ID_KEY = "_qlvb_sid"
DEVICE_COOKIE = "qlvb_device"
DEVICE_DAYS = 365
AUTH_MODES = ("db", "ldap", "ldap_then_db")
CHANGE_PASSWORD_ENDPOINT = "ChangePasswordView.password"  # noqa: S105 (an endpoint name)

LOGIN_FAILED_REASONS = {
    "unknown_user": "Tài khoản không tồn tại",
    "inactive": "Tài khoản đã bị thu hồi",
    "wrong_host": "Tài khoản thuộc cơ quan khác",
    "throttled": "Thử quá nhiều lần, phải chờ trước lần thử tiếp",
    "bad_password": "Sai mật khẩu",
    "ldap_bad_password": "Máy chủ thư mục từ chối mật khẩu",
    "ldap_not_found": "Không có trong thư mục, không được dùng mật khẩu cơ sở dữ liệu",
    "ldap_unavailable": "Không kết nối được máy chủ thư mục",
    "empty_password": "Mật khẩu trống",
    "oidc_no_email": "Tài khoản một cửa không có thư điện tử đã xác minh",
}


_STAFF_KEY = "_qlvb_staff"
# role ids -> the (permission, view) pairs they grant; valid while the "security" revision stands
_ROLE_PERMISSIONS = revisions.DefinitionCache("security", maxsize=256)


def request_staff(user_id: int) -> Any:
    """The staff row of the request's user, loaded with the user (one query per request), else looked up."""
    found = getattr(g, _STAFF_KEY, None)
    if found is not None and found[0] == user_id:
        return found[1]
    return staff_for_user(user_id)


_SECURITY_KEY = "_qlvb_security"
_DEPUTY_KEY = "_qlvb_is_deputy"
_NOT_LOADED = object()


def request_is_deputy(user_id: int) -> bool | None:
    """Whether the request's user stands in for anyone today, as read with the user (None: not read)."""
    found = getattr(g, _DEPUTY_KEY, None)
    return found[1] if found is not None and found[0] == user_id else None


def request_security(user_id: int) -> Any:
    """The request's user's AccountSecurity row (None if it has none) as loaded with the user, else _NOT_LOADED."""
    found = getattr(g, _SECURITY_KEY, None)
    if found is not None and found[0] == user_id:
        return found[1]
    return _NOT_LOADED


def password_change_required(user_id: int) -> bool:
    security = request_security(user_id)
    if security is _NOT_LOADED:
        return passwords.password_change_required(user_id, password_policy())
    return passwords.change_required(security, password_policy())


def user_allowed_here(user: Any) -> bool:
    """SoICT admins work on the central domain; everyone else on their own agency's domain."""
    agency = getattr(g, "agency", None)
    if agency is None or user is None:
        return False
    role_names = {r.name for r in user.roles}
    if agency.is_central:
        return R.SOICT_ADMIN in role_names
    staff = request_staff(user.id)
    return staff is not None and staff.active and staff.agency_id == agency.id


def password_policy() -> PasswordPolicy:
    return PasswordPolicy.from_config(current_app.config)


def throttle_policy() -> throttle.ThrottlePolicy:
    return throttle.ThrottlePolicy.from_config(current_app.config)


def safe_next(raw: str | None) -> str:
    """Where to go after login: a path on this very host, or the home page. Refuses absolute and
    scheme-relative URLs, backslashes (browsers read "/\\evil" as "//evil"), whitespace and control
    characters (a CR/LF would split the Location header)."""
    index = url_for("HomeIndexView.index")
    if not raw or not isinstance(raw, str) or len(raw) > 2000:
        return index
    if not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return index
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in raw):
        return index
    try:
        parts = urlsplit(raw)
    except ValueError:
        return index
    if parts.scheme or parts.netloc:
        return index
    return raw


def rotate_session(user_id: int) -> None:
    """A new server-side session for this browser (login, own password change): a copy of the cookie it
    had before is worth nothing from now on."""
    lifetime = current_app.config.get("PERMANENT_SESSION_LIFETIME", 10 * 3600)
    if not isinstance(lifetime, dt.timedelta):
        lifetime = dt.timedelta(seconds=int(lifetime))
    old = session.pop(SESSION_ID_KEY, None)
    if old:
        sessions.end_session_in_transaction(old, "rotated")
    session[SESSION_ID_KEY] = sessions.open_session(
        user_id, lifetime=lifetime, ip=request.remote_addr, user_agent=request.headers.get("User-Agent", ""))
    session[SESSION_VERSION_KEY] = passwords.session_version(user_id)


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="qlvb-trusted-device")


def trusted_device(user_id: int) -> str | None:
    """The device nonce of this browser if it signed in to this very account before (signed cookie)."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > 512:
        return None
    try:
        data = _device_serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user_id or not isinstance(data.get("n"), str):
        return None
    return str(data["n"])


def _login(view: Any, authenticate: Callable[[str, str], Any]) -> Any:
    """FAB's login, with a safe ``next``, a 429 page for a throttled attempt and the trusted-device cookie."""
    next_url = safe_next(request.args.get("next"))
    if g.user is not None and g.user.is_authenticated:
        return redirect(next_url)
    form = LoginForm_db()
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data or "", form.password.data or "")
        except throttle.LoginThrottledError as exc:
            flash(exc.message, "danger")
            resp = make_response(view.render_template(view.login_template, title=view.title, form=form,
                                                      appbuilder=view.appbuilder, oidc_label=oidc_label()), 429)
            resp.headers["Retry-After"] = str(exc.retry_after)
            return resp
        if not user:
            flash(as_unicode(view.invalid_login_message), "warning")
            return redirect(view.appbuilder.get_url_for_login_with(next_url))
        login_user(user, remember=False)
        resp = redirect(next_url)
        device = g.pop("_qlvb_device", None)
        if device:
            resp.set_cookie(DEVICE_COOKIE, _device_serializer().dumps(device), max_age=DEVICE_DAYS * 86400,
                            httponly=True, samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
        return resp
    return view.render_template(view.login_template, title=view.title, form=form, appbuilder=view.appbuilder,
                                oidc_label=oidc_label())


def login_rate_key() -> str:
    """One bucket per (address, account): guessing one password is slowed without throttling a whole office
    behind one NAT; a separate per-address limit (QLVB_LOGIN_RATE_LIMIT_PER_IP) bounds password spraying."""
    name = unicodedata.normalize("NFC", (request.form.get("username") or "")).strip().lower()
    return f"{get_remote_address()}|{name}"


INVALID_LOGIN = lazy_gettext("Sai địa chỉ thư điện tử hoặc mật khẩu, hoặc tài khoản không dùng được trên trang này.")


LOGIN_TEMPLATE = "account/login.html"


class QlvbAuthDBView(OidcLoginMixin, AuthDBView):
    login_template = LOGIN_TEMPLATE
    invalid_login_message = INVALID_LOGIN

    @expose("/login/", methods=["GET", "POST"])
    @no_cache
    def login(self) -> Any:
        return _login(self, self.appbuilder.sm.auth_user_db)


class QlvbAuthLDAPView(OidcLoginMixin, AuthLDAPView):
    login_template = LOGIN_TEMPLATE
    invalid_login_message = INVALID_LOGIN

    @expose("/login/", methods=["GET", "POST"])
    @no_cache
    def login(self) -> Any:
        return _login(self, self.appbuilder.sm.auth_user_ldap)


class NoSecurityApi(BaseApi):
    """In place of FAB's SecurityApi (/api/v1/security/login and /refresh): a token login beside the form
    would have neither CSRF nor our throttling, host check or session rows. It serves nothing."""

    resource_name = "security"


class ResetPasswordForm(FlaskForm):
    password = PasswordField("Mật khẩu mới", validators=[DataRequired(message="Trường này là bắt buộc.")])
    conf_password = PasswordField("Nhập lại mật khẩu mới", validators=[
        DataRequired(message="Trường này là bắt buộc."),
        EqualTo("password", message="Hai lần nhập mật khẩu mới không khớp.")])
    current_password = PasswordField("Mật khẩu hiện tại của bạn",
                                     validators=[DataRequired(message="Trường này là bắt buộc.")])


class QlvbResetMyPasswordView(BaseView):
    """FAB's self-service reset (/resetmypassword/form) changed the password without the current one: it now
    only sends everyone to our page, which asks for it. One method for GET and POST, FAB's endpoint name."""

    route_base = "/resetmypassword"
    class_permission_name = "ResetMyPasswordView"
    default_view = "this_form_get"

    @expose("/form", methods=["GET", "POST"])
    @has_access
    def this_form_get(self) -> Any:
        if request.method == "POST":
            log.warning("FAB self-service password reset refused for user %s: it asks for no current password",
                        getattr(g.user, "id", None))
            flash("Hãy đổi mật khẩu tại trang này: cần nhập mật khẩu hiện tại.", "warning")
        return redirect(url_for(CHANGE_PASSWORD_ENDPOINT))


class QlvbResetPasswordView(BaseView):
    """SoICT resets another account's password (FAB's /resetpassword/form?pk=…), only after typing their own
    current password again; the policy applies and every session of the account ends."""

    route_base = "/resetpassword"
    class_permission_name = "ResetPasswordView"
    default_view = "this_form_get"

    @expose("/form", methods=["GET", "POST"])
    @has_access
    def this_form_get(self) -> Any:
        pk = request.args.get("pk", "")
        target = self.appbuilder.sm.get_user_by_id(int(pk)) if pk.isdigit() and len(pk) <= 18 else None
        if target is None:
            raise NotFoundError("Không tìm thấy tài khoản.")
        form = ResetPasswordForm()
        errors: list[str] = []
        if form.validate_on_submit():
            if not verify_password(g.user.password, form.current_password.data or "")[0]:
                log.warning("password reset of %s by %s refused: wrong current password", target.username,
                            g.user.username)
                errors.append("Mật khẩu hiện tại của bạn không đúng; mật khẩu chưa được đổi.")
            else:
                try:
                    self.appbuilder.sm.reset_password(target.id, form.password.data)
                except DomainError as exc:
                    errors.extend(exc.details or [exc.message])
                else:
                    flash(f"Đã đặt lại mật khẩu của {target.username}; mọi phiên đăng nhập của tài khoản đã "
                          "kết thúc và người dùng phải đổi mật khẩu ở lần đăng nhập tới.", "success")
                    return redirect(url_for(f"{type(self.appbuilder.sm.user_view).__name__}.show", pk=target.id))
        return self.render_template("account/reset_password.html", form=form, errors=errors, target=target,
                                    policy=password_policy())


USER_LABELS = {"first_name": "Tên", "last_name": "Họ và tên đệm", "username": "Tên đăng nhập",
               "email": "Thư điện tử", "active": "Đang hoạt động", "roles": "Vai trò",
               "login_count": "Số lần đăng nhập", "last_login": "Đăng nhập gần nhất",
               "created_on": "Tạo lúc", "changed_on": "Sửa lúc", "groups": "Nhóm"}
USER_LIST_COLUMNS = ["first_name", "last_name", "username", "email", "active", "roles"]


class QlvbUserDBModelView(VietnameseValues, UserDBModelView):
    """FAB's account pages (the official's own "Thông tin tài khoản", the system engineer's account list) with
    values in words: roles by their Vietnamese names, "Có"/"Không" instead of True/False."""

    class_permission_name = "UserDBModelView"  # the grants (app/admin/permissions.py) name FAB's own view
    label_columns = USER_LABELS
    list_columns = USER_LIST_COLUMNS


class QlvbUserLDAPModelView(VietnameseValues, UserLDAPModelView):
    class_permission_name = "UserLDAPModelView"
    label_columns = USER_LABELS
    list_columns = USER_LIST_COLUMNS


class QlvbSecurityManager(SecurityManager):
    authdbview = QlvbAuthDBView
    authldapview = QlvbAuthLDAPView
    security_api = NoSecurityApi
    resetmypasswordview = QlvbResetMyPasswordView
    resetpasswordview = QlvbResetPasswordView
    userdbmodelview = QlvbUserDBModelView
    userldapmodelview = QlvbUserLDAPModelView
    # FAB's chart of logins loads Google's chart library from the Internet and speaks English.
    userstatschartview = None

    # --- authentication ---------------------------------------------------------------------------

    def auth_user_db(self, username: str, password: str) -> Any:
        return self._authenticate(username, password)

    def auth_user_ldap(self, username: str, password: str) -> Any:
        return self._authenticate(username, password)

    def _authenticate(self, username: str, password: str) -> Any:
        name = unicodedata.normalize("NFC", username or "").strip().lower()[:255]
        if not name:
            return None
        try:
            user = self._check_credentials(name, password or "")
        except throttle.LoginThrottledError as exc:
            db.session.rollback()
            self._fail(None, name, "throttled", retry_after=exc.retry_after, scope=exc.scope)
            db.session.commit()
            raise
        except DomainError:
            db.session.rollback()
            raise
        db.session.commit()
        keys = g.pop("_qlvb_throttle_success", None)
        if keys:
            # After the commit: on SQLite the counter's own connection would wait for this request's write lock.
            throttle.attempt_succeeded(keys)
        return user

    def _check_credentials(self, name: str, password: str) -> Any:
        agency = getattr(g, "agency", None)
        user = self.find_user(username=name) or self.find_user(email=name)
        tpolicy = throttle_policy()
        device = trusted_device(user.id) if user is not None else None
        keys = throttle.keys_for(name, request.remote_addr, device, tpolicy)
        # Counted before anything is checked, so parallel guesses cannot outrun the count.
        throttle.reserve_attempt(keys, tpolicy)
        if user is None:
            dummy_verify(password)
            return self._fail(None, name, "unknown_user")
        if not user.active:
            dummy_verify(password)
            return self._fail(user, name, "inactive")
        if not user_allowed_here(user):
            log.warning("login of %s refused on host of %s: account belongs elsewhere", name,
                        agency.code if agency else "?")
            dummy_verify(password)
            return self._fail(user, name, "wrong_host")
        if not password.strip("\x00"):
            # An empty password would be an anonymous LDAP bind, which servers accept: never let it through.
            dummy_verify(password)
            return self._fail(user, name, "empty_password")
        policy = password_policy()
        mode = current_app.config.get("QLVB_AUTH", "db")
        if mode not in AUTH_MODES:
            log.error("QLVB_AUTH=%r is not one of %s; refusing every login", mode, AUTH_MODES)
            return self._fail(user, name, "unknown_user")
        if mode in ("ldap", "ldap_then_db"):
            verdict = self._ldap_check(name, password)
            sec = passwords.security_of(user.id)
            if verdict == "ok":
                passwords.mark_directory_account(user.id)
                return self._succeed(user, name, keys, device, via="ldap")
            if verdict == "bad_password":
                passwords.record_failed_login(user.id, policy)
                return self._fail(user, name, "ldap_bad_password")
            # Not in the directory, or the directory is down: only database-only accounts may fall back.
            if mode == "ldap" or sec.directory_account:
                return self._fail(user, name, "ldap_unavailable" if verdict == "unavailable" else "ldap_not_found")
        result = passwords.check_password_login(user, password, policy)
        if result.ok:
            return self._succeed(user, name, keys, device, via="db")
        return self._fail(user, name, "bad_password")

    def auth_user_oidc(self, claims: dict[str, Any]) -> Any:
        """The province's identity provider vouched for ``claims`` (signature, issuer, audience, nonce checked by
        Authlib): an existing active account of this host's agency with that e-mail, or None. Commits."""
        email = verified_email(claims)
        name = email or str(claims.get("email") or claims.get("sub") or "")[:255]
        user = (self.find_user(email=email) or self.find_user(username=email)) if email else None
        if email is None:
            self._fail(None, name, "oidc_no_email", via="oidc")
        elif user is None:
            self._fail(None, name, "unknown_user", via="oidc")
        elif not user.active:
            self._fail(user, name, "inactive", via="oidc")
        elif not user_allowed_here(user):
            log.warning("OIDC login of %s refused on host of %s: account belongs elsewhere", name,
                        g.agency.code if getattr(g, "agency", None) else "?")
            self._fail(user, name, "wrong_host", via="oidc")
        else:
            self.update_user_auth_stat(user, True)
            rotate_session(user.id)
            record_event("login", user_id=user.id, username=name, agency_id=self._agency_id(),
                         detail={"via": "oidc"})
            db.session.commit()
            return user
        db.session.commit()
        return None

    def _succeed(self, user: Any, name: str, keys: list[throttle.ThrottleKey], device: str | None, *,
                 via: str) -> Any:
        g._qlvb_throttle_success = keys
        self.update_user_auth_stat(user, True)
        rotate_session(user.id)
        # This browser is now trusted for this account: guesses from elsewhere never slow it down.
        g._qlvb_device = {"u": user.id, "n": device or secrets.token_urlsafe(18)}
        record_event("login", user_id=user.id, username=name, agency_id=self._agency_id(),
                     detail={"via": via})
        return user

    def _fail(self, user: Any, name: str, reason: str, **detail: Any) -> None:
        if user is not None:
            user.fail_login_count = (user.fail_login_count or 0) + 1
        record_event("login_failed", success=False, user_id=user.id if user is not None else None, username=name,
                     agency_id=self._agency_id(), message=LOGIN_FAILED_REASONS.get(reason, reason),
                     detail={"reason": reason, **detail})
        log.info("login failed for %s: %s", name, reason)
        return None

    @staticmethod
    def _agency_id() -> int | None:
        agency = getattr(g, "agency", None)
        return agency.id if agency is not None else None

    def _ldap_check(self, username: str, password: str) -> str:
        """"ok", "bad_password", "not_found" or "unavailable", using FAB's AUTH_LDAP_* settings and helpers."""
        import ldap

        if not self.auth_ldap_server:
            return "unavailable"
        try:
            if self.auth_ldap_tls_cacertfile:
                ldap.set_option(ldap.OPT_X_TLS_CACERTFILE, self.auth_ldap_tls_cacertfile)
            if self.auth_ldap_tls_demand:
                ldap.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
            con = ldap.initialize(self.auth_ldap_server)
            con.set_option(ldap.OPT_REFERRALS, 0)
            con.set_option(ldap.OPT_NETWORK_TIMEOUT, float(current_app.config.get("QLVB_LDAP_TIMEOUT", 5)))
            con.set_option(ldap.OPT_TIMEOUT, float(current_app.config.get("QLVB_LDAP_TIMEOUT", 5)))
            if self.auth_ldap_use_tls:
                con.start_tls_s()
            if self.auth_ldap_bind_user:
                self._ldap_bind_indirect(ldap, con)
                dn, _attrs = self._search_ldap(ldap, con, username)
                if dn is None:
                    return "not_found"
                return "ok" if self._ldap_bind(ldap, con, dn, password) else "bad_password"
            # Direct bind (no service account): "not in the directory" cannot be told from a wrong password.
            bind_name = username
            if self.auth_ldap_append_domain:
                bind_name = f"{bind_name}@{self.auth_ldap_append_domain}"
            if self.auth_ldap_username_format:
                bind_name = self.auth_ldap_username_format % bind_name
            return "ok" if self._ldap_bind(ldap, con, bind_name, password) else "bad_password"
        except ldap.LDAPError as exc:
            log.error("LDAP server %s unavailable: %s", self.auth_ldap_server, exc)
            return "unavailable"

    # --- sessions ------------------------------------------------------------------------------------

    def load_user(self, pk: int) -> Any:
        # A session is honoured only on its own agency's host (cookies are host-scoped already, but a shared
        # parent-domain cookie must not cross agencies), only while the account is active, and only while
        # it carries the account's current session version (revocation and password changes end it).
        # One query: the user with its roles and groups, its staff row, its security row and the revision
        # counters of the cached definitions (app/core/revisions.py), which also check the host's agency.
        user_model = self.user_model
        row = db.session.execute(
            select(user_model, Staff, AccountSecurity, *revisions.columns(), acting_flag(user_model.id))
            .outerjoin(Staff, Staff.user_id == user_model.id)
            .outerjoin(AccountSecurity, AccountSecurity.user_id == user_model.id)
            .where(user_model.id == int(pk))
            .options(joinedload(user_model.roles), joinedload(user_model.groups).joinedload(self.group_model.roles))
        ).unique().first()
        if row is None:
            return None
        user, staff, security = row[:3]
        revisions.remember(row[3:-1])
        setattr(g, _DEPUTY_KEY, (user.id, bool(row[-1])))
        setattr(g, _STAFF_KEY, (user.id, staff))
        setattr(g, _SECURITY_KEY, (user.id, security))
        if not user.is_active or not user.active or not user_allowed_here(user):
            return None
        if session.get(SESSION_VERSION_KEY, 0) != (int(security.session_version) if security is not None else 0):
            return None
        idle = dt.timedelta(minutes=int(current_app.config.get("QLVB_SESSION_IDLE_MINUTES", 0) or 0))
        if not sessions.session_is_live(session.get(SESSION_ID_KEY), user.id, idle=idle):
            return None
        return user

    # --- authorisation: the role -> permission map, cached per node and checked against its revision ------

    def _role_permissions(self, role_ids: list[int]) -> frozenset[tuple[str, str]]:
        key = frozenset(role_ids)

        def build() -> frozenset[tuple[str, str]]:
            pv, role = self.permissionview_model, self.role_model
            rows = db.session.execute(
                select(self.permission_model.name, self.viewmenu_model.name)
                .select_from(role).join(role.permissions).join(pv.permission).join(pv.view_menu)
                .where(role.id.in_(sorted(key)))
            )
            return frozenset((p, v) for p, v in rows)

        return _ROLE_PERMISSIONS.get(key, build)

    def _has_view_access(self, user: object, permission_name: str, view_name: str) -> bool:
        roles = self.get_user_roles(user)
        if any(role.name in self.builtin_roles and self._has_access_builtin_roles(role, permission_name, view_name)
               for role in roles):
            return True
        db_role_ids = [role.id for role in roles if role.name not in self.builtin_roles]
        return bool(db_role_ids) and (permission_name, view_name) in self._role_permissions(db_role_ids)

    def _get_user_permission_view_menus(self, user: object, permission_name: str,
                                        view_menus_name: list[str]) -> set[str]:
        if user is None:  # the public role: FAB's own lookup
            return set(super()._get_user_permission_view_menus(user, permission_name, view_menus_name))
        roles = self.get_user_roles(user)
        result = {name for role in roles if role.name in self.builtin_roles for name in view_menus_name
                  if self._has_access_builtin_roles(role, permission_name, name)}
        db_role_ids = [role.id for role in roles if role.name not in self.builtin_roles]
        if db_role_ids:
            granted = self._role_permissions(db_role_ids)
            wanted = set(view_menus_name) if view_menus_name is not None else None
            result.update(v for p, v in granted if p == permission_name and (wanted is None or v in wanted))
        return result

    def on_user_logout(self, user: Any) -> None:
        sessions.end_session(session.get(SESSION_ID_KEY), "logout")
        session.clear()
        record_event("logout", user_id=user.id, username=user.username, agency_id=self._agency_id())
        db.session.commit()

    def reset_password(self, userid: int, password: str) -> None:
        """FAB's own reset pages (SoICT's user admin) go through the password policy; every session of the
        account ends, but the caller's own when they change their own."""
        userid = int(userid)
        by_admin = getattr(g, "user", None) is None or g.user.id != userid
        try:
            passwords.set_password(userid, password, password_policy(), by_admin=by_admin)
        except DomainError:
            db.session.rollback()
            raise
        target = self.get_user_by_id(userid)
        record_event("password_reset" if by_admin else "password_changed", target_type="user", target_id=userid,
                     message=target.username if target else None)
        if not by_admin:
            rotate_session(userid)
        db.session.commit()

    # --- rate limiting -------------------------------------------------------------------------------

    def create_limiter(self, app: Any) -> Limiter:
        limiter = Limiter(key_func=login_rate_key, storage_uri=app.config.get("RATELIMIT_STORAGE_URI", "memory://"),
                          default_limits=[])
        limiter.init_app(app)
        return limiter

    def register_views(self) -> None:
        super().register_views()
        # FAB's own security screens (accounts, roles, groups, raw permissions) are for the system engineer, by
        # address; the province's admins manage agencies and accounts from "Quản trị tỉnh" and "Cơ cấu tổ chức".
        self.appbuilder.menu.menu = [m for m in self.appbuilder.menu.menu if m.name != "Security"]
        per_ip = current_app.config.get("QLVB_LOGIN_RATE_LIMIT_PER_IP")
        if self.is_auth_limited and per_ip and getattr(self, "auth_view", None) is not None:
            self.limiter.limit(per_ip, key_func=get_remote_address, methods=["POST"],
                               scope="login-per-ip")(self.auth_view.blueprint)
