"""Start-up hooks that domain packages contribute to the app and to `flask qlvb init` (kept in one place)."""

from __future__ import annotations


def register_domain_steps() -> None:
    """Each domain declares its processes, step kinds, their handlers and its service operations."""
    from app.assignments.steps import register_step_kinds as assignments
    from app.cases.services import register_step_kinds as cases
    from app.designer.definitions import process_kinds_from_definitions
    from app.documents.packages import register_exchange_handlers
    from app.documents.steps import register_step_kinds as documents
    from app.opinions.steps import register_step_kinds as opinions
    from app.workflow.steps import set_extra_process_kinds

    documents()
    register_exchange_handlers()  # what a received edXML package or status message means (app/liaison)
    assignments()
    opinions()
    cases()
    # Processes agencies created in the designer: their kinds are rows, read when a key is not built in.
    set_extra_process_kinds(process_kinds_from_definitions)
    from app.delegations.queries import deputies_for
    from app.notifications.tasks import register_recipient_source

    register_recipient_source(deputies_for)  # a deputy is told of a step that opens for the leader


def after_init() -> None:
    """Run each domain's idempotent seeding after agencies are loaded."""
    from app.documents.doctypes import seed_document_types

    seed_document_types()
    register_domain_steps()

    from flask import current_app

    from app.designer.process_sync import sync_processes

    sync_processes(current_app.config["QLVB_PROCESSES_DIR"], current_app.config["QLVB_FORMS_DIR"])
