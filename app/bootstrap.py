"""Start-up hooks that domain packages contribute to `flask qlvb init` (kept in one place)."""

from __future__ import annotations


def after_init() -> None:
    """Run each domain's idempotent seeding after agencies are loaded."""
    from app.documents.doctypes import seed_document_types
    from app.documents.workflow_ops import register_operations

    seed_document_types()
    register_operations()
