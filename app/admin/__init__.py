"""Flask-AppBuilder admin: security manager, model views, roles and their permissions."""

from __future__ import annotations

from typing import Any


def init_admin(appbuilder: Any) -> None:
    from app.accounts import audit as audit_log

    from . import audit, designer, form_editor, incidents, mail_intake, maintenance, reassign, staff_import
    from .views import register_views

    audit_log.install()
    register_views(appbuilder)
    audit.register(appbuilder)
    reassign.register(appbuilder)
    staff_import.register(appbuilder)
    maintenance.register(appbuilder)
    designer.register(appbuilder)
    form_editor.register(appbuilder)
    incidents.register(appbuilder)
    mail_intake.register(appbuilder)
    from . import stats_dashboard

    stats_dashboard.register(appbuilder)
    from . import api_clients

    api_clients.register(appbuilder)
    from . import directory

    directory.register(appbuilder)
