"""Import every model module so SQLAlchemy mappers and Alembic autogenerate see all tables."""

from flask_appbuilder.security.sqla import models as fab_models  # noqa: F401

from app.tenancy import models as tenancy_models  # noqa: F401

from app.workflow import models as workflow_models  # noqa: F401

# Domain packages append themselves here as they gain models.

from app.documents import models as documents_models  # noqa: F401
