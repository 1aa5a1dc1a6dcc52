"""QLVB application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from app.config import ROOT, build_config
from app.extensions import appbuilder, csrf, db, migrate


def create_app(config_override: Mapping[str, Any] | None = None, *, job_queue: Any = None) -> Flask:
    """Build the app. Tests pass config (and a job queue) in; nothing reads the environment later."""
    app = Flask(__name__, instance_path=str(ROOT / "instance"), template_folder="web/templates",
                static_folder="web/static", static_url_path="/assets")
    app.config.update(build_config())
    if config_override:
        app.config.update(config_override)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")
    if app.config.get("QLVB_AUTH") == "ldap":
        app.config["AUTH_TYPE"] = 2  # AUTH_LDAP
    Path(app.config["QLVB_UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

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
        from app.bootstrap import register_domain_steps

        register_domain_steps()  # process kinds, step kinds and their handlers, service operations

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
    from app.tenancy.models import Agency, Department, Position, Staff

    for model in (Role, PermissionView, Permission, ViewMenu):
        revisions.watch(model, "security")
    for model in (Agency, Department, Position, Staff, DocumentType):
        revisions.watch(model, "org")
    # Staff choices filter by role and show names: a login (last_login, counters) must not bump anything.
    revisions.watch(User, "org", attributes=("roles", "active", "first_name", "last_name", "email"))
    revisions.watch(FormVersion, "forms")
    revisions.watch(MaintenanceWindow, "maintenance")
    revisions.install()


def _security_tables_exist() -> bool:
    from sqlalchemy import inspect
    from sqlalchemy.exc import OperationalError

    try:
        return inspect(db.engine).has_table("ab_permission_view")
    except OperationalError:
        return False
