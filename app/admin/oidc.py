"""Single sign-on with the province's OpenID Connect provider ("tài khoản một cửa"), beside the password login.

Authlib's Flask client does the protocol: discovery document, authorization code flow with PKCE (S256), state
and nonce, ID token signature checked against the provider's JWKS, issuer, audience and expiry. What follows is
ours, as for a password: the e-mail the provider vouches for must be an existing, active account of THIS host's
agency (nobody is registered by signing in), the login is audited, and the session is a server-side one.
The routes live on the login view (/login/oidc, /login/oidc/callback), so they exist on every agency host; the
provider must accept each host's callback address as a redirect URI.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_appbuilder.security.decorators import no_cache
from flask_appbuilder.views import expose
from flask_login import login_user
from requests.exceptions import RequestException

log = logging.getLogger("qlvb.security")

PROVIDER = "province"
DEFAULT_LABEL = "Đăng nhập bằng tài khoản một cửa của tỉnh"
_NEXT_KEY = "_qlvb_oidc_next"


def oidc_settings() -> dict[str, Any] | None:
    cfg = current_app.config
    url, client_id = cfg.get("QLVB_OIDC_METADATA_URL"), cfg.get("QLVB_OIDC_CLIENT_ID")
    if not url or not client_id:
        return None
    return {"url": str(url), "client_id": str(client_id), "secret": str(cfg.get("QLVB_OIDC_CLIENT_SECRET") or ""),
            "scope": str(cfg.get("QLVB_OIDC_SCOPE") or "openid email profile"),
            "timeout": float(cfg.get("QLVB_OIDC_TIMEOUT") or 10)}


def oidc_label() -> str | None:
    """The button's words on the login page, or None when single sign-on is not configured."""
    if oidc_settings() is None:
        return None
    return str(current_app.config.get("QLVB_OIDC_LABEL") or DEFAULT_LABEL)


def province_client() -> Any:
    """The Authlib client for the configured provider (one per process and configuration)."""
    settings = oidc_settings()
    if settings is None:
        return None
    key = tuple(sorted(settings.items()))
    cached = current_app.extensions.get("qlvb_oidc")
    if cached is not None and cached[0] == key:
        return cached[1]
    registry = OAuth(current_app)
    registry.register(
        PROVIDER, client_id=settings["client_id"], client_secret=settings["secret"] or None,
        server_metadata_url=settings["url"],
        client_kwargs={"scope": settings["scope"], "code_challenge_method": "S256",
                       "timeout": settings["timeout"]})
    client = registry.create_client(PROVIDER)
    current_app.extensions["qlvb_oidc"] = (key, client)
    return client


class OidcLoginMixin:
    """Added to the login views (database and LDAP): the SSO button's two routes."""

    @expose("/login/oidc", methods=["GET"])
    @no_cache
    def oidc_login(self) -> Any:
        from .security import safe_next

        client = province_client()
        if client is None:
            abort(404)
        session[_NEXT_KEY] = safe_next(request.args.get("next"))
        try:
            return client.authorize_redirect(url_for(f"{type(self).__name__}.oidc_callback", _external=True))
        except (OAuthError, RequestException, ValueError) as exc:
            log.error("OIDC provider %s unavailable: %s", oidc_settings()["url"], exc)  # type: ignore[index]
            flash("Không kết nối được hệ thống tài khoản một cửa của tỉnh; hãy thử lại sau hoặc đăng nhập bằng "
                  "mật khẩu.", "danger")
            return redirect(url_for(f"{type(self).__name__}.login"))

    @expose("/login/oidc/callback", methods=["GET"])
    @no_cache
    def oidc_callback(self) -> Any:
        client = province_client()
        if client is None:
            abort(404)
        back = redirect(url_for(f"{type(self).__name__}.login"))
        if request.args.get("error"):
            log.info("OIDC sign-in cancelled or refused by the provider: %s", request.args.get("error")[:100])
            flash("Hệ thống tài khoản một cửa không xác nhận lượt đăng nhập này.", "warning")
            return back
        try:
            token = client.authorize_access_token()
        except (OAuthError, RequestException, ValueError) as exc:
            log.warning("OIDC sign-in failed: %s", exc)
            flash("Không xác nhận được lượt đăng nhập từ hệ thống tài khoản một cửa; hãy thử lại.", "danger")
            return back
        claims = dict(token.get("userinfo") or {})
        user = self.appbuilder.sm.auth_user_oidc(claims)  # type: ignore[attr-defined]
        if user is None:
            flash("Tài khoản một cửa này không ứng với tài khoản nào đang hoạt động của cơ quan trên trang này.",
                  "warning")
            return back
        login_user(user, remember=False)
        return redirect(session.pop(_NEXT_KEY, None) or url_for("HomeIndexView.index"))


def verified_email(claims: dict[str, Any]) -> str | None:
    """The e-mail the provider vouches for: present, and not explicitly unverified."""
    email = claims.get("email")
    if not isinstance(email, str) or not email or claims.get("email_verified") is False:
        return None
    return unicodedata.normalize("NFC", email).strip().lower()[:255]


def agency_id() -> int | None:
    agency = getattr(g, "agency", None)
    return agency.id if agency is not None else None
