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
from flask_appbuilder.security.views import AuthDBView, AuthLDAPView, UserDBModelView, UserLDAPModelView
from flask_babel import lazy_gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from app.accounts import passwords
from app.accounts.audit import record_event
from app.accounts.policy import PasswordPolicy
from app.core.clock import VN_TZ
from app.core.errors import DomainError
from app.extensions import db
from app.tenancy import roles as R
from app.tenancy.queries import staff_for_user

from .values import VietnameseValues

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


def user_allowed_here(user: Any) -> bool:
    """SoICT admins work on the central domain; everyone else on their own agency's domain."""
    agency = getattr(g, "agency", None)
    if agency is None or user is None:
        return False
    role_names = {r.name for r in user.roles}
    if agency.is_central:
        return R.SOICT_ADMIN in role_names
    staff = staff_for_user(user.id)
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
        user = super().load_user(pk)
        if user is None or not user.active or not user_allowed_here(user):
            return None
        if session.get(SESSION_VERSION_KEY, 0) != passwords.session_version(user.id):
            return None
        return user

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
        # FAB's own security screens (accounts, roles, groups, raw permissions) are for the system engineer, by
        # address; the province's admins manage agencies and accounts from "Quản trị tỉnh" and "Cơ cấu tổ chức".
        self.appbuilder.menu.menu = [m for m in self.appbuilder.menu.menu if m.name != "Security"]
        per_ip = current_app.config.get("QLVB_LOGIN_RATE_LIMIT_PER_IP")
        if self.is_auth_limited and per_ip and getattr(self, "auth_view", None) is not None:
            self.limiter.limit(per_ip, key_func=get_remote_address, methods=["POST"],
                               scope="login-per-ip")(self.auth_view.blueprint)
