from __future__ import annotations

from pathlib import Path

from app.forms import known_form_keys

PROCESSES = Path(__file__).resolve().parents[3] / "processes"
ROLES = frozenset({"clerk", "leader", "head", "specialist", "legal", "agency_admin", "soict_admin"})
OPERATIONS = frozenset({"documents.start_reply", "documents.issue", "documents.deliver"})
# The real form keys of forms/ (the diagrams must only name forms that exist).
FORMS = frozenset(known_form_keys(Path(__file__).resolve().parents[3] / "forms"))


def read(relative: str) -> str:
    return (PROCESSES / relative).read_text(encoding="utf-8")
