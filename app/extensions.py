"""Flask extensions, created unbound; ``create_app`` binds them (nothing imports the app object)."""

from __future__ import annotations

from flask_appbuilder import AppBuilder, Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_babel import Babel
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

# FAB 5 keeps its own metadata unless told otherwise: share Model.metadata so Alembic sees every table.
db = SQLA(metadata=Model.metadata)
migrate = Migrate()
appbuilder = AppBuilder()
babel = Babel()
csrf = CSRFProtect()

__all__ = ["Model", "appbuilder", "babel", "csrf", "db", "migrate"]
