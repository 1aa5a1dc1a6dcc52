"""Security headers on every response (flask-talisman): a CSP the pages actually pass, no framing, no sniffing.

Scripts: only our own files plus inline blocks carrying the per-request nonce (Flask-AppBuilder's templates
call ``csp_nonce()``; ours write ``nonce="{{ csp_nonce() }}"``). Styles: our files plus inline style
attributes, which FAB's templates and Bootstrap widgets use; a style cannot run code.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from flask_talisman import Talisman

CSP: dict[str, Any] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

PERMISSIONS_POLICY = {"geolocation": "()", "camera": "()", "microphone": "()", "payment": "()", "usb": "()"}



_CACHEABLE_ENDPOINTS = {"static", "appbuilder.static"}


def _no_store(response: Response) -> Response:
    """Pages and downloads are never kept by the browser or a proxy: after logout, the back button or a
    shared computer's cache must show nothing. Only our own CSS/JS/fonts stay cacheable."""
    if request.endpoint in _CACHEABLE_ENDPOINTS:
        return response
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    response.headers.pop("Expires", None)
    if not getattr(response, KEEPS_ETAG, False):
        response.headers.pop("ETag", None)
        response.headers.pop("Last-Modified", None)
    return response


# A stored file's ETag is its SHA-256: a download manager resuming a large file with Range + If-Range needs it,
# and it says nothing the file does not (app.web.uploads.send_blob sets this on its responses).
KEEPS_ETAG = "qlvb_keeps_etag"


def install(app: Flask) -> None:
    app.after_request(_no_store)
    secure = bool(app.config.get("SESSION_COOKIE_SECURE"))
    # One Talisman per app: it keeps its settings on itself.
    app.extensions["qlvb_talisman"] = Talisman(
        app,
        # TLS ends at the province's reverse proxy; redirecting here would loop behind it.
        force_https=False,
        strict_transport_security=bool(app.config.get("QLVB_HSTS")),
        strict_transport_security_max_age=365 * 24 * 3600,
        content_security_policy=CSP,
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy=PERMISSIONS_POLICY,
        # Talisman would otherwise force Secure cookies, which a plain-http local install cannot keep.
        session_cookie_secure=secure,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        x_content_type_options=True,
    )
