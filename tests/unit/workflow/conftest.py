from __future__ import annotations

from pathlib import Path

PROCESSES = Path(__file__).resolve().parents[3] / "processes"
ROLES = frozenset({"clerk", "leader", "head", "specialist", "legal", "agency_admin", "soict_admin"})
OPERATIONS = frozenset({"documents.start_reply", "documents.issue", "documents.deliver"})
# Forms the templates name; the task/opinion ones may not exist in forms/ yet.
FORMS = frozenset({
    "incoming_register", "incoming_assign", "incoming_assign_specialist", "incoming_process", "incoming_confirm",
    "outgoing_draft", "outgoing_review", "outgoing_approve", "outgoing_issue", "legal_review",
    "task_assign", "task_report", "task_evaluate", "opinion_request", "opinion_answer", "opinion_consolidate",
})


def read(relative: str) -> str:
    return (PROCESSES / relative).read_text(encoding="utf-8")
