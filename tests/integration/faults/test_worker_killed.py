"""A worker SIGKILLed in the middle of completing a task leaves the instance and the inbox consistent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from app.extensions import db
from app.workflow import queries as wfq
from app.workflow import services as wf
from app.workflow.info import ActorRef
from app.workflow.models import HumanTask, ProcessInstance
from tests.integration.faults.diagram import DIAGRAM, ROLES

ROOT = Path(__file__).resolve().parents[3]

CHILD = textwrap.dedent("""
    import json, sys, time
    from sqlalchemy import event
    from app import create_app
    from app.workflow import services as wf
    from app.workflow.info import ActorRef
    cfg = json.loads(sys.argv[1])
    app = create_app(cfg["config"])

    def hang_once_the_task_row_is_written(conn, cursor, statement, params, context, executemany):
        # The completed task row has been written to the database inside the still-open transaction
        # (PostgreSQL: the step's single statement, whose first CTE marks the task done).
        if "UPDATE HUMAN_TASK SET STATE" in " ".join(statement.upper().split()):
            print("IN-TRANSACTION", flush=True)
            time.sleep(120)  # the parent kills us here

    with app.app_context():
        from app.extensions import db
        event.listen(db.engine, "after_cursor_execute", hang_once_the_task_row_is_written)
        a = cfg["actor"]
        actor = ActorRef(user_id=a["user_id"], agency_id=a["agency_id"], roles=frozenset(a["roles"]))
        wf.complete_task(cfg["task_id"], actor, {"decision": "ok"})
        from app.extensions import db
        db.session.commit()
        print("COMMITTED", flush=True)
""")


def test_sigkill_mid_completion_loses_and_duplicates_nothing(app, make_agency, make_account):
    agency = make_agency()
    leader = make_account(agency.code, ["leader"])
    actor = ActorRef(user_id=leader.user_id, agency_id=agency.id, roles=frozenset({"leader"}))
    wf.publish_version(agency.id, "fault_test", DIAGRAM, by_user_id=None, note="", known_roles=ROLES,
                       known_forms=None, known_operations=frozenset())
    inst = wf.start_instance(agency.id, "fault_test", subject_type="fault", subject_id=1, data={}, actor=actor)
    db.session.commit()
    [task] = wfq.open_tasks(inst.id)
    revision = db.session.get(ProcessInstance, inst.id).revision
    config = {k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "QLVB_INSTANCE_DIR",
                                         "QLVB_UPLOAD_DIR")}
    payload = json.dumps({"config": {**config, "TESTING": True, "FAB_UPDATE_PERMS": False}, "task_id": task.id,
                          "actor": {"user_id": actor.user_id, "agency_id": agency.id, "roles": ["leader"]}})
    db.session.remove()  # no lock of ours in the way of the child
    child = subprocess.Popen([sys.executable, "-c", CHILD, payload], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 120
        line = ""
        while "IN-TRANSACTION" not in line and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line and child.poll() is not None:
                break
        why = child.stderr.read()[-3000:] if child.poll() is not None else ""
        assert "IN-TRANSACTION" in line, "the worker never reached the middle: " + why
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    db.session.expire_all()
    # Nothing of the half-done step survived: same open task, same revision, nothing completed.
    open_now = wfq.open_tasks(inst.id)
    assert [t.id for t in open_now] == [task.id]
    assert db.session.get(ProcessInstance, inst.id).revision == revision
    assert db.session.query(HumanTask).filter_by(instance_id=inst.id).count() == 1
    assert [t.id for t in wfq.inbox(actor, "todo") if t.instance_id == inst.id] == [task.id]
    # And the work can be done again, exactly once.
    wf.complete_task(task.id, actor, {"decision": "ok"})
    db.session.commit()
    [next_task] = wfq.open_tasks(inst.id)
    assert next_task.bpmn_id == "confirm"
    assert db.session.query(HumanTask).filter_by(instance_id=inst.id, state="done").count() == 1
