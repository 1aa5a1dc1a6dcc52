"""Completing a human task from its page: the form's values, and what the page posted besides them.

What a step *means* (numbering a document, signing it, recording an answer…) is decided by the domain
that owns its process, by the step's kind (app/workflow/steps.py); this module only hands the posted
values over. Secrets typed on the page (a signing PIN) travel as ``inputs`` and are never stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.documents.attachments import UploadInfo
from app.workflow import services as wf
from app.workflow.info import ActorRef, HumanTaskInfo
from app.workflow.steps import prefill_for

# Fields posted beside the form that a step's kind may read (never stored with the step).
EXTRA_INPUTS = ("confirm_duplicate", "pin", "signature_reason")


def prefill(task: HumanTaskInfo) -> dict[str, Any] | None:
    return prefill_for(task)


def complete(task: HumanTaskInfo, actor: ActorRef, data: Mapping[str, Any], files: Mapping[str, list[UploadInfo]],
             comment: str | None, extra: Mapping[str, Any] | None = None) -> None:
    inputs: dict[str, Any] = {"files": dict(files)}
    inputs.update({k: v for k, v in (extra or {}).items() if k in EXTRA_INPUTS})
    wf.complete_task(task.id, actor, data, comment=comment, inputs=inputs, known=task)
