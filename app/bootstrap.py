"""Start-up hooks that domain packages contribute to `flask qlvb init` (kept in one place)."""

from __future__ import annotations


def after_init() -> None:
    """Run each domain's idempotent seeding after agencies are loaded."""
    from app.documents.doctypes import seed_document_types
    from app.documents.workflow_ops import register_operations

    seed_document_types()
    register_operations()

    from flask import current_app

    from app.designer.process_sync import sync_processes

    sync_processes(current_app.config["QLVB_PROCESSES_DIR"], current_app.config["QLVB_FORMS_DIR"])
