from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.forms import known_form_keys

PROCESSES = Path(__file__).resolve().parents[3] / "processes"
ROLES = frozenset({"clerk", "leader", "head", "specialist", "legal", "agency_admin", "soict_admin"})
OPERATIONS = frozenset({"documents.start_reply", "documents.issue", "documents.deliver"})
# The real form keys of forms/ (the diagrams must only name forms that exist).
FORMS = frozenset(known_form_keys(Path(__file__).resolve().parents[3] / "forms"))


def read(relative: str) -> str:
    return (PROCESSES / relative).read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _plain_working_days() -> Iterator[None]:
    """Unit tests compute due dates with the built-in calendar, even after an integration test in the same
    session installed the app's database-backed one (app.workflow.due.set_workday_calendar)."""
    from app.workflow import due

    installed = due._calendar
    due.set_workday_calendar(None)
    yield
    due.set_workday_calendar(installed)
