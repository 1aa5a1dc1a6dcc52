#!/usr/bin/env python3
"""Workflow service layer vs the raw engine, and per-step cost against instance length.

Run: .venv/bin/python bench/workflow.py [--routes 60] [--runs 3]
Uses DATABASE_URL if set (PostgreSQL), else a temporary SQLite file. Prints:
 (a) incoming routes/s through app.workflow.services (one commit per step, like one request per step)
     vs raw SpiffWorkflow doing the same route on the same diagram with a JSON serialize+deserialize
     between steps (the method of shared/bench/raw_spiffworkflow.py), and the ratio (target >= 0.5);
 (b) mean cost of one step in a 100-step linear instance vs a 4-step one (target ratio <= 1.5).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.spiff.parser import SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

ROLES = frozenset({"clerk", "leader", "head", "specialist", "legal"})
INCOMING_XML = (ROOT / "processes" / "templates" / "incoming.bpmn").read_text(encoding="utf-8")


def route_forms(dept_id: int, specialist_id: int) -> dict[str, dict[str, Any]]:
    return {
        "register": {"summary": "Công văn đề nghị phối hợp", "urgency": "thuong"},
        "assign": {"lead_department_id": dept_id, "deadline": "2030-12-31", "direction": "Xử lý"},
        "assign_specialist": {"specialist_id": specialist_id, "note": "Giao xử lý"},
        "process": {"result": "Đã xử lý xong", "request_reply": False},
        "confirm": {"decision": "complete", "comment": "Đồng ý"},
    }


def linear_bpmn(n: int) -> str:
    nodes, flows, refs = [], [], []
    prev = "StartEvent_1"
    for i in range(1, n + 1):
        tid = f"step_{i}"
        refs.append(tid)
        nodes.append(
            f'<bpmn:userTask id="{tid}" name="Bước {i}"><bpmn:extensionElements><spiffworkflow:properties>'
            f'<spiffworkflow:property name="formKey" value="f" /></spiffworkflow:properties></bpmn:extensionElements>'
            f"</bpmn:userTask>"
        )
        flows.append(f'<bpmn:sequenceFlow id="Flow_{i}" sourceRef="{prev}" targetRef="{tid}" />')
        prev = tid
    flows.append(f'<bpmn:sequenceFlow id="Flow_end" sourceRef="{prev}" targetRef="EndEvent_1" />')
    lane_refs = "".join(f"<bpmn:flowNodeRef>{r}</bpmn:flowNodeRef>" for r in ["StartEvent_1", *refs, "EndEvent_1"])
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="x">'
        f'<bpmn:process id="linear_{n}" isExecutable="true"><bpmn:laneSet id="LS">'
        f'<bpmn:lane id="Lane_clerk" name="clerk">{lane_refs}</bpmn:lane></bpmn:laneSet>'
        '<bpmn:startEvent id="StartEvent_1" />' + "".join(nodes) + '<bpmn:endEvent id="EndEvent_1" />'
        + "".join(flows) + "</bpmn:process></bpmn:definitions>"
    )


# -- raw baseline (shared/bench/raw_spiffworkflow.py method: ser+deser after start and every task) ----
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))


def raw_routes_per_s(routes: int, forms: dict[str, dict[str, Any]]) -> float:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(INCOMING_XML.encode())
    spec, subs = parser.get_spec("incoming"), parser.get_subprocess_specs("incoming")
    t0 = time.perf_counter()
    for _ in range(routes):
        wf = BpmnWorkflow(spec, subs)
        wf.do_engine_steps()
        wf = SERIALIZER.deserialize_json(SERIALIZER.serialize_json(wf))
        while not wf.completed:
            ids = [t.id for t in wf.get_tasks(state=TaskState.READY, manual=True)]
            for tid in ids:
                task = wf.get_task_from_id(tid)
                _ = task.task_spec.lane
                task.set_data(**forms[task.task_spec.bpmn_id])
                task.run()
                wf.do_engine_steps()
                wf = SERIALIZER.deserialize_json(SERIALIZER.serialize_json(wf))
    return routes / (time.perf_counter() - t0)


# -- service layer -----------------------------------------------------------------------------
def make_app(tmp: Path) -> Any:
    from app import create_app
    from app.cli.main import run_init

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "x" * 40,
        "QLVB_INSTANCE_DIR": str(tmp / "instance"), "QLVB_UPLOAD_DIR": str(tmp / "files"),
    })
    with app.app_context():
        run_init()
    return app, url


def setup_org() -> dict[str, Any]:
    from app.extensions import db
    from app.tenancy.accounts import create_staff_account
    from app.tenancy.queries import departments_of, list_agencies
    from app.workflow.info import ActorRef

    agency = list_agencies()[0]
    dept = departments_of(agency.id)[0]
    dept_code = dept.code
    actors = {}
    for key, role, in_dept in (("clerk", "clerk", False), ("leader", "leader", False), ("head", "head", True),
                               ("specialist", "specialist", True)):
        staff = create_staff_account(
            agency_code=agency.code, full_name=f"Bench {key}", email=f"bench{secrets.token_hex(4)}@x.vn",
            roles=[role], password="Pw@" + secrets.token_hex(8), department_code=dept_code if in_dept else None,
        )
        db.session.flush()
        actors[key] = ActorRef(staff.user_id, agency.id, frozenset({role}), dept.id if in_dept else None)
    db.session.commit()
    return {"agency_id": agency.id, "dept_id": dept.id, "actors": actors}


def service_routes_per_s(routes: int, org: dict[str, Any], forms: dict[str, dict[str, Any]]) -> float:
    from app.extensions import db
    from app.workflow import services
    from app.workflow.queries import open_tasks

    who = {"register": "clerk", "assign": "leader", "assign_specialist": "head", "process": "specialist",
           "confirm": "head"}
    actors = org["actors"]
    t0 = time.perf_counter()
    for i in range(routes):
        inst = services.start_instance(org["agency_id"], "incoming", subject_type="incoming", subject_id=i,
                                       data={}, actor=actors["clerk"])
        db.session.commit()
        task_ids = list(inst.open_task_ids)
        while task_ids:
            task = open_tasks(inst.id)[0]
            info = services.complete_task(task.id, actors[who[task.bpmn_id]], forms[task.bpmn_id])
            db.session.commit()
            task_ids = list(info.open_task_ids)
        assert info.status == "completed"
    return routes / (time.perf_counter() - t0)


def per_step_ms(org: dict[str, Any], key: str, instances: int) -> float:
    from app.extensions import db
    from app.workflow import services

    clerk = org["actors"]["clerk"]
    timings: list[float] = []
    for i in range(instances):
        inst = services.start_instance(org["agency_id"], key, subject_type="bench", subject_id=i, data={},
                                       actor=clerk)
        db.session.commit()
        open_ids = list(inst.open_task_ids)
        while open_ids:
            t0 = time.perf_counter()
            info = services.complete_task(open_ids[0], clerk, {"value": i})
            db.session.commit()
            timings.append(time.perf_counter() - t0)
            open_ids = list(info.open_task_ids)
    return statistics.mean(timings) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--routes", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    import logging

    logging.disable(logging.INFO)
    tmp = Path(tempfile.mkdtemp(prefix="qlvb_bench_"))
    app, url = make_app(tmp)
    with app.app_context():
        from app.workflow.operations import register_operation
        from app.workflow.services import publish_version

        register_operation("documents.start_reply", lambda ref, data: None, replace=True)
        org = setup_org()
        publish_version(None, "incoming", INCOMING_XML, by_user_id=None, note="bench", known_roles=ROLES,
                        known_forms=None)
        for n in (4, 100):
            publish_version(None, f"linear_{n}", linear_bpmn(n), by_user_id=None, note="bench", known_roles=ROLES,
                            known_forms=None)
        from app.extensions import db

        db.session.commit()
        forms = route_forms(org["dept_id"], org["actors"]["specialist"].user_id)
        service_routes_per_s(5, org, forms)  # warm caches (diagram parse, mappers)
        ours, raw = [], []
        for _ in range(args.runs):
            raw.append(raw_routes_per_s(args.routes, forms))
            ours.append(service_routes_per_s(args.routes, org, forms))
        ours_m, raw_m = statistics.median(ours), statistics.median(raw)
        dialect = url.split(":", 1)[0]
        print(f"db={dialect} runs={args.runs} routes/run={args.routes} (5 user tasks per route, commit per step)")
        print(f"(a) service layer {ours_m:.1f} routes/s | raw SpiffWorkflow + JSON round trip {raw_m:.1f} routes/s"
              f" | ratio {ours_m / raw_m:.2f} (target >= 0.5)")
        per_step_ms(org, "linear_4", 2)  # warm
        short = statistics.median(per_step_ms(org, "linear_4", 10) for _ in range(args.runs))
        long = statistics.median(per_step_ms(org, "linear_100", 1) for _ in range(args.runs))
        print(f"(b) per step: 4-step instance {short:.2f} ms | 100-step instance {long:.2f} ms"
              f" | ratio {long / short:.2f} (target <= 1.5)")
        print("(c) inbox p95 at 1M tasks on PostgreSQL: not measured yet (TODO)")


if __name__ == "__main__":
    main()
