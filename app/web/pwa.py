"""The installable web app: a manifest, icons and a small service worker that keeps the page shell (styles,
scripts, fonts, icons) and an offline notice, so a leader opening QLVB on the phone gets the pages at once.

Pages themselves are never cached: they carry one official's documents and must always come from the server.
The worker's cache name follows the asset build (static/dist/.built), so a new build replaces the shell."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, render_template, url_for

bp = Blueprint("pwa", __name__)

# What the shell is made of: every staff page loads these (FAB's Bootstrap, jQuery, Font Awesome and ours).
_FAB_ASSETS = ("css/bootstrap.min.css", "css/fontawesome/fontawesome.min.css", "css/fontawesome/regular.min.css",
               "css/fontawesome/solid.min.css", "css/fontawesome/brands.min.css", "css/fontawesome/v4-shims.min.css",
               "css/ab.css", "js/jquery-latest.js", "js/bootstrap.min.js", "js/ab.js")
_OWN_ASSETS = ("qlvb.css", "dist/qlvb.css", "dist/qlvb.js", "favicon.svg", "icons/icon-192.png",
               "icons/icon-512.png")


def _build_stamp() -> str:
    stamp = Path(current_app.static_folder or "") / "dist" / ".built"
    text = stamp.read_text(encoding="utf-8") if stamp.is_file() else "dev"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def shell_urls() -> list[str]:
    return [url_for("pwa.offline"), *(url_for("static", filename=f) for f in _OWN_ASSETS),
            *(url_for("appbuilder.static", filename=f) for f in _FAB_ASSETS)]


@bp.route("/manifest.webmanifest")
def manifest() -> Any:
    body = {
        "name": "QLVB Vĩnh Phúc — Quản lý văn bản và điều hành",
        "short_name": "QLVB",
        "description": "Phần mềm quản lý văn bản và điều hành tỉnh Vĩnh Phúc",
        "lang": "vi",
        "dir": "ltr",
        "start_url": url_for("InboxView.index"),
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#f3f5f8",
        "theme_color": "#b71c1c",
        "icons": [
            {"src": url_for("static", filename="icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": url_for("static", filename="icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": url_for("static", filename="icons/icon-maskable-512.png"), "sizes": "512x512",
             "type": "image/png", "purpose": "maskable"},
        ],
    }
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.cache_control.max_age = 3600
    return response


@bp.route("/sw.js")
def service_worker() -> Any:
    script = render_template("pwa/sw.js", cache=f"qlvb-shell-{_build_stamp()}", shell=json.dumps(shell_urls()),
                             offline=json.dumps(url_for("pwa.offline")))
    response = current_app.response_class(script, mimetype="text/javascript")
    # Served from the root so its scope is the whole site; browsers re-check it at least daily anyway.
    response.headers["Service-Worker-Allowed"] = "/"
    response.cache_control.no_cache = True
    return response


@bp.route("/offline")
def offline() -> Any:
    return render_template("pwa/offline.html", title="Không có kết nối mạng")


def install(app: Flask) -> None:
    app.register_blueprint(bp)
