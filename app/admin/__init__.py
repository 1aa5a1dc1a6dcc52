"""Flask-AppBuilder admin: security manager, model views, roles and their permissions."""

from __future__ import annotations

from typing import Any


def init_admin(appbuilder: Any) -> None:
    from .views import register_views

    register_views(appbuilder)
