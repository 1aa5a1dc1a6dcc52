"""Frozen values the workflow adapter hands out; nothing typed by SpiffWorkflow or SQLAlchemy leaves."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ActorRef:
    """Who acts: plain values the caller resolved from the logged-in user."""

    user_id: int
    agency_id: int
    roles: frozenset[str]
    department_id: int | None = None
    # The people this actor stands in for today (ủy quyền), each as they would act themselves.
    on_behalf: tuple[ActorRef, ...] = ()
    # Set while the actor completes a step for one of them: whose step it was.
    acting_for: int | None = None


@dataclass(frozen=True)
class ProcessVersionInfo:
    id: int
    agency_id: int | None
    process_key: str
    number: int
    sha256: str
    status: str
    note: str
    created_at: dt.datetime
    created_by_id: int | None
    base_template_version_id: int | None


@dataclass(frozen=True)
class InstanceInfo:
    id: int
    agency_id: int
    process_key: str
    version_id: int
    subject_type: str
    subject_id: int
    status: str
    revision: int
    started_by_id: int | None
    started_at: dt.datetime
    completed_at: dt.datetime | None
    open_task_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class HumanTaskInfo:
    id: int
    agency_id: int
    instance_id: int
    task_uuid: str
    bpmn_id: str
    name: str
    process_key: str
    subject_type: str
    subject_id: int
    form_key: str | None
    candidate_role: str | None
    candidate_department_id: int | None
    candidate_user_id: int | None
    claimed_by_id: int | None
    state: str
    due_at: dt.datetime | None
    created_at: dt.datetime
    completed_at: dt.datetime | None
    completed_by_id: int | None
    form_data: dict[str, Any] | None
    comment: str | None
    step_kind: str | None = None  # what the step means to the domain (workflow/steps.py)
    on_behalf_of_id: int | None = None  # whose step a deputy completed (ủy quyền)
    read: bool | None = None  # seen by the person whose inbox lists it (None: not asked)


@dataclass(frozen=True)
class EventInfo:
    id: int
    instance_id: int
    at: dt.datetime
    actor_id: int | None
    kind: str
    task_name: str | None
    bpmn_id: str | None
    comment: str | None
    data: dict[str, Any] | None


@dataclass(frozen=True)
class DiagramStateInfo:
    """What bpmn-js needs to colour a running instance."""

    bpmn_xml: str
    done_ids: frozenset[str]
    active_ids: frozenset[str]
