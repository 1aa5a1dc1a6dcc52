"""Fixtures of the accounts tests: a SoICT admin on the central host, a frozen clock, an open task."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def soict(make_account: Callable[..., Any]) -> Any:
    acc = make_account("qlvb", ["soict_admin"])
    return acc


@pytest.fixture
def frozen_clock() -> Iterator[Callable[[dt.datetime], None]]:
    from app.core import clock

    yield clock.freeze
    clock.freeze(None)


@pytest.fixture
def open_task_for(app: Any) -> Callable[..., int]:
    """A minimal running instance with one open task claimed by (or named for) a user; returns the task id."""
    from app.extensions import db
    from app.workflow.models import HumanTask, ProcessInstance, ProcessVersion

    def factory(agency_id: int, user_id: int, *, claimed: bool = True) -> int:
        number = db.session.query(ProcessVersion).filter_by(agency_id=agency_id).count() + 1
        version = ProcessVersion(agency_id=agency_id, process_key="lifecycle_test", number=number, bpmn_xml="<x/>",
                                 sha256="0" * 64, status="draft", note="")
        db.session.add(version)
        db.session.flush()
        instance = ProcessInstance(agency_id=agency_id, process_key="lifecycle_test", version_id=version.id,
                                   subject_type="test", subject_id=1, state_meta="{}", meta={})
        db.session.add(instance)
        db.session.flush()
        task = HumanTask(agency_id=agency_id, instance_id=instance.id, task_uuid=f"t-{instance.id}", bpmn_id="t",
                         name="Xử lý văn bản thử", process_key="lifecycle_test", subject_type="test", subject_id=1,
                         candidate_role="specialist", claimed_by_id=user_id if claimed else None,
                         candidate_user_id=None if claimed else user_id, state="open")
        db.session.add(task)
        db.session.commit()
        return task.id

    return factory
