"""QLVB application factory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from app.config import ROOT, build_config
from app.extensions import appbuilder, csrf, db, migrate


def create_app(config_override: Mapping[str, Any] | None = None, *, job_queue: Any = None) -> Flask:
    """Build the app. Tests pass config (and a job queue) in; nothing reads the environment later."""
    import os

    from app.core.files import apply_umask, private_dir

    # Before anything is written (the secret key file, the SQLite file, uploads): owner-only files.
    apply_umask(os.environ.get("QLVB_UMASK", "077"))
    app = Flask(__name__, instance_path=str(ROOT / "instance"), template_folder="web/templates",
                static_folder="web/static", static_url_path="/assets")
    from app.web.converters import BoundedIntConverter

    # Ids beyond 64 bits are 404 at routing, before any database sees them (SQLite raised OverflowError).
    app.url_map.converters["int"] = BoundedIntConverter
    app.config.update(build_config())
    if config_override:
        app.config.update(config_override)
    apply_umask(app.config.get("QLVB_UMASK", "077"))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")
    if app.config.get("QLVB_AUTH") == "ldap":
        app.config["AUTH_TYPE"] = 2  # AUTH_LDAP
    from app.core.logs import configure_logging
    from app.ops.startup import check_production

    configure_logging(str(app.config.get("QLVB_LOG_FORMAT") or "text"), str(app.config.get("QLVB_LOG_LEVEL") or "INFO"))
    check_production(app.config)  # ConfigurationError: the process stops here, before it serves anything
    _trust_proxies(app, int(app.config.get("QLVB_TRUSTED_PROXIES") or 0))
    Path(app.config["QLVB_UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)
    private_dir(app.config["QLVB_INSTANCE_DIR"])
    private_dir(app.config["QLVB_UPLOAD_DIR"])
    signing_dir = app.config.get("QLVB_SIGNING_DIR") or os.environ.get("QLVB_SIGNING_DIR")
    if signing_dir:
        private_dir(signing_dir)
    else:
        signing = Path(app.config["QLVB_INSTANCE_DIR"]) / "signing"
        if signing.exists():
            private_dir(signing)

    from app.core import nfc_guard, sqlite

    nfc_guard.install()
    db.init_app(app)
    with app.app_context():
        sqlite.configure(db.engine)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    app.extensions["qlvb_job_queue"] = job_queue

    from app import models  # noqa: F401  (one module imports every model so mappers are configured)
    from app.web import tenancy_hooks

    _watch_definitions()

    # Host -> agency must run before anything touches current_user (FAB's own before_request does).
    tenancy_hooks.install(app)

    with app.app_context():
        # On a database that migrations have not built yet, FAB must not try to write permissions.
        app.config["FAB_UPDATE_PERMS"] = bool(app.config.get("FAB_UPDATE_PERMS")) and _security_tables_exist()
        appbuilder.init_app(app, db.session)
        from app.admin import init_admin
        from app.web import init_web

        init_admin(appbuilder)
        init_web(app, appbuilder)
        from app.api import init_api

        init_api(app)
        from app.bootstrap import register_domain_steps

        register_domain_steps()  # process kinds, step kinds and their handlers, service operations
        from app.jobs import dispatch

        dispatch.install()  # work a commit asks for (task-opened notices) runs at once, off the request

    from app.cli import register_cli

    register_cli(app)
    return app


def _watch_definitions() -> None:
    """What each node's cached definitions are built from: a change to one of these bumps its revision."""
    from flask_appbuilder.security.sqla.models import Permission, PermissionView, Role, User, ViewMenu

    from app.accounts.models import MaintenanceWindow
    from app.core import revisions
    from app.designer.models import FormVersion
    from app.documents.models import DocumentType
    from app.liaison.models import ExternalOrgan
    from app.tenancy.models import Agency, Department, Position, Staff

    for model in (Role, PermissionView, Permission, ViewMenu):
        revisions.watch(model, "security")
    for model in (Agency, Department, Position, Staff, DocumentType, ExternalOrgan):
        revisions.watch(model, "org")
    # Staff choices filter by role and show names: a login (last_login, counters) must not bump anything.
    revisions.watch(User, "org", attributes=("roles", "active", "first_name", "last_name", "email"))
    revisions.watch(FormVersion, "forms")
    revisions.watch(MaintenanceWindow, "maintenance")
    revisions.install()


def _trust_proxies(app: Flask, hops: int) -> None:
    """Behind ``hops`` reverse proxies, take the client's address, scheme and host from their X-Forwarded-* headers.

    Only through ProxyFix: the audit log and the login rate limits read ``request.remote_addr``, which is then the
    address the outermost trusted proxy saw; with 0 (the default) forwarded headers are ignored, so a client cannot
    choose its own address by sending them."""
    if hops <= 0:
        return
    from werkzeug.middleware.proxy_fix import ProxyFix

    # The Host header picks the agency and nginx passes it as is (proxy_set_header Host $host): X-Forwarded-Host,
    # which nginx does not set, is not believed.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)  # type: ignore[method-assign]


def _security_tables_exist() -> bool:
    from sqlalchemy import inspect
    from sqlalchemy.exc import OperationalError

    try:
        return inspect(db.engine).has_table("ab_permission_view")
    except OperationalError:
        return False
