"""Flask-AppBuilder admin: security manager, model views, roles and their permissions."""

from __future__ import annotations

from typing import Any


def init_admin(appbuilder: Any) -> None:
    from . import designer, form_editor
    from .views import register_views

    register_views(appbuilder)
    designer.register(appbuilder)
    form_editor.register(appbuilder)
