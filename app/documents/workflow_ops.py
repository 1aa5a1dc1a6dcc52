"""The service tasks of the SoICT diagrams (documents.issue, documents.deliver, documents.start_reply).

``register_operations()`` runs at app start (app/__init__.py) and in ``flask qlvb init``; the workflow
adapter never imports this package, it only looks the names up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.workflow.operations import InstanceRef

from . import services


def issue(ref: InstanceRef, data: dict[str, Any]) -> Mapping[str, Any]:
    """Number and register the outgoing document (after the clerk's ``issue`` form)."""
    info = services.issue_outgoing(ref.subject_id, issue_date=data.get("issue_date"), copies=data.get("copies"))
    return {"number": info.number, "number_notation": info.number_notation,
            "issue_date": info.issue_date.isoformat() if info.issue_date else None}


def deliver(ref: InstanceRef, data: dict[str, Any]) -> Mapping[str, Any]:
    """Hand the issued document to the recipient agencies of the province (each gets a register step)."""
    delivered = services.deliver_outgoing(ref.subject_id)
    return {"delivered_document_ids": delivered, "delivered_count": len(delivered)}


def start_reply(ref: InstanceRef, data: dict[str, Any]) -> Mapping[str, Any]:
    """Open the reply draft for the specialist who asked for it at the ``process`` step."""
    requester = data.get("specialist_id") or data.get("initiator_id")
    reply = services.start_reply(ref.subject_id, requested_by_user_id=int(requester),
                                 summary=data.get("reply_summary"))
    return {"reply_document_id": reply.id}


# name -> (function, the step kind a service task calling it fulfils, the data names it adds)
OPERATIONS = {
    # Numbering now happens in the chain (documents/chain.py); diagrams published before keep this step,
    # which finds the document numbered already and does nothing.
    "documents.issue": (issue, None, ("number", "number_notation", "issue_date")),
    "documents.deliver": (deliver, "deliver", ("delivered_document_ids", "delivered_count")),
    "documents.start_reply": (start_reply, None, ("reply_document_id",)),
}


def register_operations() -> None:
    """Idempotent: the documents domain's operations and step kinds (documents/steps.py)."""
    from .steps import register_step_kinds

    register_step_kinds()
