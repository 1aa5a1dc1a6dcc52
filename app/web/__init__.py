"""Staff-facing pages: blueprints, templates, error pages."""

from __future__ import annotations

from typing import Any

from flask import Flask


def init_web(app: Flask, appbuilder: Any) -> None:
    from . import context, documents, errors, inbox, ops, progress

    errors.install(app)
    from . import params

    params.install(app)
    ops.install(app)
    from . import axis_hub

    axis_hub.install(app)
    from . import account, security_headers

    security_headers.install(app)
    account.install(app, appbuilder)
    context.install(app)
    inbox.register(appbuilder)
    progress.register(appbuilder)
    documents.register(appbuilder)
    from . import calendar, exchange, notifications

    notifications.install(app, appbuilder)
    calendar.register(appbuilder)
    exchange.register(appbuilder)
    from . import assignments, cases, opinions

    assignments.register(appbuilder)
    opinions.register(appbuilder)
    cases.register(appbuilder)
    from . import dossiers, search, stats

    search.register(appbuilder)
    stats.register(appbuilder)
    dossiers.install(app, appbuilder)
    from . import deadlines, delegations, pwa

    deadlines.register(appbuilder)
    delegations.register(appbuilder)
    pwa.install(app)
