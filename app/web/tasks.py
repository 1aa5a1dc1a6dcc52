"""Completing a human task: which service completes it depends on what the task is about.

Documents register their own completer (it may number a document before completing the step); any
other subject completes through the workflow service directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app.documents.attachments import UploadInfo
from app.workflow import services as wf
from app.workflow.info import ActorRef, HumanTaskInfo

# files: what the step's form posted, as the documents domain's UploadInfo (read and checked by the services).
Completer = Callable[[HumanTaskInfo, ActorRef, Mapping[str, Any], list[UploadInfo], str | None], None]

COMPLETERS: dict[str, Completer] = {}
# subject_type -> fn(task) -> initial form values (e.g. the draft being revised after a return).
PREFILLS: dict[str, Callable[[HumanTaskInfo], dict[str, Any]]] = {}


def prefill(task: HumanTaskInfo) -> dict[str, Any] | None:
    fn = PREFILLS.get(task.subject_type)
    return fn(task) if fn is not None else None


def complete(task: HumanTaskInfo, actor: ActorRef, data: Mapping[str, Any], files: list[UploadInfo],
             comment: str | None) -> None:
    completer = COMPLETERS.get(task.subject_type)
    if completer is not None:
        completer(task, actor, data, files, comment)
    else:
        wf.complete_task(task.id, actor, data, comment=comment)
