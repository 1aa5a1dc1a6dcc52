"""Import every model module so SQLAlchemy mappers and Alembic autogenerate see all tables."""

from flask_appbuilder.security.sqla import models as fab_models  # noqa: F401

from app.accounts import models as accounts_models  # noqa: F401
from app.assignments import models as assignments_models  # noqa: F401
from app.calendar import models as calendar_models  # noqa: F401
from app.cases import models as cases_models  # noqa: F401
from app.deadlines import models as deadlines_models  # noqa: F401
from app.delegations import models as delegations_models  # noqa: F401
from app.designer import models as designer_models  # noqa: F401
from app.documents import models as documents_models  # noqa: F401
from app.dossiers import models as dossiers_models  # noqa: F401
from app.exchange import models as exchange_models  # noqa: F401
from app.intake import models as intake_models  # noqa: F401
from app.liaison import models as liaison_models  # noqa: F401
from app.notifications import models as notifications_models  # noqa: F401
from app.opinions import models as opinions_models  # noqa: F401
from app.search import models as search_models  # noqa: F401
from app.stats import models as stats_models  # noqa: F401
from app.tenancy import models as tenancy_models  # noqa: F401
from app.workflow import models as workflow_models  # noqa: F401
