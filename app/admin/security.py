"""Flask-AppBuilder security manager: who may log in, where, and how (database, LDAP, or LDAP then database).

A login is valid only on its own agency's host. Database passwords follow the policy of app.accounts
(argon2, expiry, history, lockout); LDAP only proves the password of an account an administrator created.
Every login, failed login (with its reason) and logout lands in the audit log.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from flask import current_app, flash, g, request, session
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView, AuthLDAPView
from flask_babel import lazy_gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.accounts import passwords
from app.accounts.audit import record_event
from app.accounts.models import AccountSecurity
from app.accounts.policy import PasswordPolicy
from app.core import revisions
from app.core.clock import VN_TZ
from app.core.errors import DomainError
from app.extensions import db
from app.tenancy import roles as R
from app.tenancy.models import Staff
from app.tenancy.queries import staff_for_user

log = logging.getLogger("qlvb.security")

SESSION_VERSION_KEY = "_qlvb_sv"
AUTH_MODES = ("db", "ldap", "ldap_then_db")

LOGIN_FAILED_REASONS = {
    "unknown_user": "Tài khoản không tồn tại",
    "inactive": "Tài khoản đã bị thu hồi",
    "wrong_host": "Tài khoản thuộc cơ quan khác",
    "locked": "Tài khoản đang tạm khóa",
    "bad_password": "Sai mật khẩu",
    "ldap_bad_password": "Máy chủ thư mục từ chối mật khẩu",
    "ldap_not_found": "Không có trong thư mục, không được dùng mật khẩu cơ sở dữ liệu",
    "ldap_unavailable": "Không kết nối được máy chủ thư mục",
    "empty_password": "Mật khẩu trống",
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
_NOT_LOADED = object()


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


def login_rate_key() -> str:
    """One bucket per (address, account): guessing one password is slowed without throttling a whole office
    behind one NAT; a separate per-address limit (QLVB_LOGIN_RATE_LIMIT_PER_IP) bounds password spraying."""
    name = unicodedata.normalize("NFC", (request.form.get("username") or "")).strip().lower()
    return f"{get_remote_address()}|{name}"


INVALID_LOGIN = lazy_gettext("Sai địa chỉ thư điện tử hoặc mật khẩu, hoặc tài khoản không dùng được trên trang này.")


class QlvbAuthDBView(AuthDBView):
    invalid_login_message = INVALID_LOGIN


class QlvbAuthLDAPView(AuthLDAPView):
    login_template = "appbuilder/general/security/login_db.html"
    invalid_login_message = INVALID_LOGIN


class QlvbSecurityManager(SecurityManager):
    authdbview = QlvbAuthDBView
    authldapview = QlvbAuthLDAPView

    # --- authentication ---------------------------------------------------------------------------

    def auth_user_db(self, username: str, password: str) -> Any:
        return self._authenticate(username, password)

    def auth_user_ldap(self, username: str, password: str) -> Any:
        return self._authenticate(username, password)

    def _authenticate(self, username: str, password: str) -> Any:
        name = unicodedata.normalize("NFC", username or "").strip().lower()
        if not name:
            return None
        try:
            user = self._check_credentials(name, password or "")
        except DomainError:
            db.session.rollback()
            raise
        db.session.commit()
        return user

    def _check_credentials(self, name: str, password: str) -> Any:
        agency = getattr(g, "agency", None)
        user = self.find_user(username=name) or self.find_user(email=name)
        if user is None:
            return self._fail(None, name, "unknown_user")
        if not user.active:
            return self._fail(user, name, "inactive")
        if not user_allowed_here(user):
            log.warning("login of %s refused on host of %s: account belongs elsewhere", name,
                        agency.code if agency else "?")
            return self._fail(user, name, "wrong_host")
        if not password.strip("\x00"):
            # An empty password would be an anonymous LDAP bind, which servers accept: never let it through.
            return self._fail(user, name, "empty_password")
        policy = password_policy()
        until = passwords.locked_until(user.id)
        if until is not None:
            return self._locked(user, name, until)
        mode = current_app.config.get("QLVB_AUTH", "db")
        if mode not in AUTH_MODES:
            log.error("QLVB_AUTH=%r is not one of %s; refusing every login", mode, AUTH_MODES)
            return self._fail(user, name, "unknown_user")
        if mode in ("ldap", "ldap_then_db"):
            verdict = self._ldap_check(name, password)
            sec = passwords.security_of(user.id)
            if verdict == "ok":
                passwords.mark_directory_account(user.id)
                return self._succeed(user, name, via="ldap")
            if verdict == "bad_password":
                result = passwords.record_failed_login(user.id, policy)
                if result.reason == "locked":
                    return self._locked(user, name, result.locked_until)
                return self._fail(user, name, "ldap_bad_password")
            # Not in the directory, or the directory is down: only database-only accounts may fall back.
            if mode == "ldap" or sec.directory_account:
                return self._fail(user, name, "ldap_unavailable" if verdict == "unavailable" else "ldap_not_found")
        result = passwords.check_password_login(user, password, policy)
        if result.ok:
            return self._succeed(user, name, via="db")
        if result.reason == "locked":
            return self._locked(user, name, result.locked_until)
        return self._fail(user, name, "bad_password")

    def _succeed(self, user: Any, name: str, *, via: str) -> Any:
        self.update_user_auth_stat(user, True)
        session[SESSION_VERSION_KEY] = passwords.session_version(user.id)
        record_event("login", user_id=user.id, username=name, agency_id=self._agency_id(),
                     detail={"via": via})
        return user

    def _fail(self, user: Any, name: str, reason: str) -> None:
        if user is not None:
            user.fail_login_count = (user.fail_login_count or 0) + 1
        record_event("login_failed", success=False, user_id=user.id if user is not None else None, username=name,
                     agency_id=self._agency_id(), message=LOGIN_FAILED_REASONS.get(reason, reason),
                     detail={"reason": reason})
        log.info("login failed for %s: %s", name, reason)
        return None

    def _locked(self, user: Any, name: str, until: Any) -> None:
        local = until.astimezone(VN_TZ).strftime("%H:%M ngày %d/%m/%Y") if until else ""
        flash(f"Tài khoản tạm khóa do nhập sai mật khẩu quá {password_policy().max_failures} lần; "
              f"hãy thử lại sau {local} hoặc liên hệ quản trị cơ quan để mở khóa.", "danger")
        return self._fail(user, name, "locked")

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
            select(user_model, Staff, AccountSecurity, *revisions.columns())
            .outerjoin(Staff, Staff.user_id == user_model.id)
            .outerjoin(AccountSecurity, AccountSecurity.user_id == user_model.id)
            .where(user_model.id == int(pk))
            .options(joinedload(user_model.roles), joinedload(user_model.groups).joinedload(self.group_model.roles))
        ).unique().first()
        if row is None:
            return None
        user, staff, security = row[:3]
        revisions.remember(row[3:])
        setattr(g, _STAFF_KEY, (user.id, staff))
        setattr(g, _SECURITY_KEY, (user.id, security))
        if not user.is_active or not user.active or not user_allowed_here(user):
            return None
        if session.get(SESSION_VERSION_KEY, 0) != (int(security.session_version) if security is not None else 0):
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
        record_event("logout", user_id=user.id, username=user.username, agency_id=self._agency_id())
        db.session.commit()

    def reset_password(self, userid: int, password: str) -> None:
        """FAB's own reset pages (self-service and SoICT's user admin) go through the password policy."""
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
            session[SESSION_VERSION_KEY] = passwords.session_version(userid)
        db.session.commit()

    # --- rate limiting -------------------------------------------------------------------------------

    def create_limiter(self, app: Any) -> Limiter:
        limiter = Limiter(key_func=login_rate_key, storage_uri=app.config.get("RATELIMIT_STORAGE_URI", "memory://"),
                          default_limits=[])
        limiter.init_app(app)
        return limiter

    def register_views(self) -> None:
        super().register_views()
        per_ip = current_app.config.get("QLVB_LOGIN_RATE_LIMIT_PER_IP")
        if self.is_auth_limited and per_ip and getattr(self, "auth_view", None) is not None:
            self.limiter.limit(per_ip, key_func=get_remote_address, methods=["POST"],
                               scope="login-per-ip")(self.auth_view.blueprint)
