#!/usr/bin/env python3
"""Workflow service layer vs the raw engine, per-step cost against instance length, and the inbox at scale.

Run: .venv/bin/python bench/workflow.py [--routes 60] [--runs 3]
     .venv/bin/python bench/workflow.py --inbox [--sizes 100000,1000000] [--queries 400] [--legacy]
Routes use DATABASE_URL if set (PostgreSQL), else a temporary SQLite file. Prints:
 (a) incoming routes/s through app.workflow.services, one commit per step like one request per step (lock
     and load the instance, permission check, complete, persist changed state, inbox rows, timeline, commit)
     vs raw SpiffWorkflow doing the same route on the same diagram with a JSON serialize+deserialize between
     steps (the method of shared/bench/raw_spiffworkflow.py), measured in the same run; target ratio >= 0.5.
     Shown warm (the per-process workflow cache, validated by the row's revision) and cold (cache off), and
     with the other packages' task signal receivers (notifications…) muted and as configured;
 (b) mean cost of one step in a 100-step linear instance vs a 4-step one, warm and cold (target <= 1.5);
 (c) with --inbox, on PostgreSQL only: a scratch database (created and dropped here) filled with human_task
     rows across 35 agencies, then p50/p95 of the inbox page query for random actors at each size, and the
     ratio of the largest to the smallest (target p95 <= 20 ms and ratio close to 1). --legacy measures the
     query and indexes before the UNION ALL rewrite, for comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
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
WHO = {"register": "clerk", "assign": "leader", "assign_specialist": "head", "process": "specialist",
       "confirm": "head"}


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


def raw_persisted_routes_per_s(routes: int, forms: dict[str, dict[str, Any]]) -> float:
    """The same raw route, each JSON snapshot also written to one row of the configured database and committed:
    the least any durable engine pays per step here (a read, a write and a commit), for context."""
    from sqlalchemy import text

    from app.extensions import db

    parser = SpiffBpmnParser()
    parser.add_bpmn_str(INCOMING_XML.encode())
    spec, subs = parser.get_spec("incoming"), parser.get_subprocess_specs("incoming")
    conn = db.engine.connect()
    conn.execute(text("CREATE TABLE IF NOT EXISTS bench_raw_state (id integer PRIMARY KEY, state text NOT NULL)"))
    conn.commit()

    def save_and_reload(key: int, wf: BpmnWorkflow) -> BpmnWorkflow:
        conn.execute(text("UPDATE bench_raw_state SET state = :s WHERE id = :i"), {"s": SERIALIZER.serialize_json(wf),
                                                                                   "i": key})
        conn.commit()
        state = conn.execute(text("SELECT state FROM bench_raw_state WHERE id = :i"), {"i": key}).scalar_one()
        return SERIALIZER.deserialize_json(state)

    t0 = time.perf_counter()
    try:
        for key in range(routes):
            conn.execute(text("INSERT INTO bench_raw_state (id, state) VALUES (:i, '')"), {"i": key})
            wf = BpmnWorkflow(spec, subs)
            wf.do_engine_steps()
            wf = save_and_reload(key, wf)
            while not wf.completed:
                ids = [t.id for t in wf.get_tasks(state=TaskState.READY, manual=True)]
                for tid in ids:
                    task = wf.get_task_from_id(tid)
                    task.set_data(**forms[task.task_spec.bpmn_id])
                    task.run()
                    wf.do_engine_steps()
                    wf = save_and_reload(key, wf)
        return routes / (time.perf_counter() - t0)
    finally:
        conn.rollback()
        conn.execute(text("DROP TABLE bench_raw_state"))
        conn.commit()
        conn.close()


# -- service layer -----------------------------------------------------------------------------
def make_app(tmp: Path, url: str | None = None) -> tuple[Any, str]:
    from app import create_app
    from app.cli.main import run_init

    url = url or os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
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
    actors = {}
    for key, role, in_dept in (("clerk", "clerk", False), ("leader", "leader", False), ("head", "head", True),
                               ("specialist", "specialist", True)):
        staff = create_staff_account(
            agency_code=agency.code, full_name=f"Bench {key}", email=f"bench{secrets.token_hex(4)}@x.vn",
            roles=[role], password="Pw@" + secrets.token_hex(8), department_code=dept.code if in_dept else None,
        )
        db.session.flush()
        actors[key] = ActorRef(staff.user_id, agency.id, frozenset({role}), dept.id if in_dept else None)
    db.session.commit()
    return {"agency_id": agency.id, "dept_id": dept.id, "actors": actors}


def service_routes_per_s(routes: int, org: dict[str, Any], forms: dict[str, dict[str, Any]]) -> float:
    from app.extensions import db
    from app.workflow import services
    from app.workflow.queries import open_tasks

    actors = org["actors"]
    t0 = time.perf_counter()
    for i in range(routes):
        inst = services.start_instance(org["agency_id"], "incoming", subject_type="incoming", subject_id=i,
                                       data={}, actor=actors["clerk"])
        db.session.commit()
        task_ids = list(inst.open_task_ids)
        while task_ids:
            task = open_tasks(inst.id)[0]  # what the task page reads before the POST
            info = services.complete_task(task.id, actors[WHO[task.bpmn_id]], forms[task.bpmn_id])
            db.session.commit()
            task_ids = list(info.open_task_ids)
        assert info.status == "completed"
    return routes / (time.perf_counter() - t0)


COMMIT_MS: list[float] = []


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
            t1 = time.perf_counter()
            db.session.commit()
            t2 = time.perf_counter()
            timings.append(t2 - t0)
            COMMIT_MS.append((t2 - t1) * 1e3)
            open_ids = list(info.open_task_ids)
    return statistics.mean(timings) * 1e3


@contextlib.contextmanager
def task_receivers_muted(muted: bool) -> Iterator[None]:
    from app.core import signals

    if not muted:
        yield
        return
    with signals.task_opened.muted(), signals.task_completed.muted():
        yield


@contextlib.contextmanager
def run_cache(warm: bool) -> Iterator[None]:
    from app.workflow.services import configure_run_cache

    configure_run_cache(1024 if warm else 0)
    try:
        yield
    finally:
        configure_run_cache(1024)


def bench_routes(args: argparse.Namespace) -> None:
    import logging

    from app.core import signals

    logging.disable(logging.INFO)
    tmp = Path(tempfile.mkdtemp(prefix="qlvb_bench_"))
    app, url = make_app(tmp)
    with app.app_context():
        from app.extensions import db
        from app.workflow.operations import register_operation
        from app.workflow.services import publish_version

        register_operation("documents.start_reply", lambda ref, data: None, replace=True)
        org = setup_org()
        publish_version(None, "incoming", INCOMING_XML, by_user_id=None, note="bench", known_roles=ROLES,
                        known_forms=None)
        for n in (4, 100):
            publish_version(None, f"linear_{n}", linear_bpmn(n), by_user_id=None, note="bench", known_roles=ROLES,
                            known_forms=None)
        db.session.commit()
        forms = route_forms(org["dept_id"], org["actors"]["specialist"].user_id)
        service_routes_per_s(5, org, forms)  # warm caches (diagram parse, mappers, statements)
        receivers = sorted({getattr(r, "__module__", "?") for sig in (signals.task_opened, signals.task_completed)
                            for r in sig.receivers_for("workflow")})
        print(f"db={url.split(':', 1)[0]} runs={args.runs} routes/run={args.routes} "
              f"(5 user tasks per route, commit per step); task signal receivers: {', '.join(receivers) or 'none'}")
        variants = [("warm cache, receivers muted", True, True), ("cold cache, receivers muted", False, True)]
        if receivers:
            variants.append(("warm cache, receivers as configured", True, False))
        results: dict[str, list[float]] = {name: [] for name, _, _ in variants}
        raw: list[float] = []
        persisted: list[float] = []
        for _ in range(args.runs):  # interleaved, so load on the shared host hits both sides alike
            raw.append(raw_routes_per_s(args.routes, forms))
            persisted.append(raw_persisted_routes_per_s(args.routes, forms))
            for name, warm, muted in variants:
                with run_cache(warm), task_receivers_muted(muted):
                    results[name].append(service_routes_per_s(args.routes, org, forms))
        raw_m = statistics.median(raw)
        print(f"(a) raw SpiffWorkflow + JSON round trip per step: {raw_m:.1f} routes/s")
        persisted_m = statistics.median(persisted)
        print(f"    for context, the raw engine also saving its JSON to this database and committing at each step: "
              f"{persisted_m:.1f} routes/s (ratio {persisted_m / raw_m:.2f} to raw)")
        for name, rates in results.items():
            ours = statistics.median(rates)
            print(f"    service layer, {name}: {ours:.1f} routes/s | ratio {ours / raw_m:.2f} (target >= 0.5)"
                  f" | {ours / persisted_m:.2f} of the raw engine saving to the database")
        for warm in (True, False):
            with run_cache(warm), task_receivers_muted(True):
                per_step_ms(org, "linear_4", 2)  # warm up
                COMMIT_MS.clear()
                short = statistics.median(per_step_ms(org, "linear_4", 10) for _ in range(args.runs))
                long = statistics.median(per_step_ms(org, "linear_100", 1) for _ in range(args.runs))
            label = "warm cache" if warm else "cold cache"
            print(f"(b) per step, {label}: 4-step instance {short:.2f} ms | 100-step instance {long:.2f} ms"
                  f" | ratio {long / short:.2f} (target <= 1.5); the COMMIT alone: median "
                  f"{statistics.median(COMMIT_MS):.2f} ms")
        print("(c) inbox at scale: run with --inbox (PostgreSQL)")


# -- (c) inbox at scale ------------------------------------------------------------------------------
AGENCIES = 35
STAFF_PER_AGENCY = 300

FILL_SQL = """
INSERT INTO human_task (agency_id, instance_id, task_uuid, bpmn_id, name, process_key, subject_type, subject_id,
    form_key, candidate_role, candidate_department_id, candidate_user_id, claimed_by_id, state, due_at, created_at,
    completed_at, completed_by_id)
SELECT a.agency_id, g / 5 + 1, md5(g::text)::uuid::text, 'process', 'Xử lý văn bản', 'incoming', 'incoming', g / 5,
    'incoming_process',
    CASE WHEN r.kind < 0.45 THEN NULL ELSE r.role END,
    CASE WHEN r.kind >= 0.45 AND r.role IN ('head', 'specialist') AND r.d < 0.8 AND a.depts IS NOT NULL
         THEN a.depts[1 + floor(r.d2 * array_length(a.depts, 1))::int] END,
    CASE WHEN r.kind < 0.45 THEN a.idx * 1000 + 1 + floor(%(staff)s::int * r.u * r.u)::int END,
    CASE WHEN r.kind >= 0.45 AND r.s < 0.12 AND r.c < 0.10
         THEN a.idx * 1000 + 1 + floor(%(staff)s::int * r.c2)::int END,
    CASE WHEN r.s < 0.12 THEN 'open' WHEN r.s < 0.95 THEN 'done' ELSE 'cancelled' END,
    CASE WHEN r.due < 0.85 THEN now() + (r.due2 * 60 - 20) * interval '1 day' END,
    now() - r.age * interval '365 days',
    CASE WHEN r.s >= 0.12 THEN now() - r.age * interval '365 days' + r.took * interval '10 days' END,
    CASE WHEN r.s >= 0.12 AND r.s < 0.95 THEN a.idx * 1000 + 1 + floor(%(staff)s::int * r.u * r.u)::int END
FROM generate_series(%(lo)s::int, %(hi)s::int) AS g
JOIN bench_agency a ON a.idx = g %% %(agencies)s::int
CROSS JOIN LATERAL (
    SELECT random() + 0 * g AS kind, random() AS d, random() AS d2, random() AS u, random() AS s, random() AS c,
           random() AS c2, random() AS due, random() AS due2, random() AS age, random() AS took,
           (ARRAY['clerk', 'leader', 'head', 'head', 'specialist', 'specialist', 'specialist', 'legal'])
               [1 + floor(random() * 8)::int] AS role
) AS r
"""

LEGACY_INDEXES = (
    "CREATE INDEX ix_legacy_user_inbox ON human_task (agency_id, state, candidate_user_id, due_at)",
    "CREATE INDEX ix_legacy_role_inbox ON human_task (agency_id, state, candidate_role, candidate_department_id,"
    " due_at)",
    "CREATE INDEX ix_legacy_done_by ON human_task (completed_by_id, completed_at)",
    "CREATE INDEX ix_legacy_claimed ON human_task (claimed_by_id, state)",
)


def legacy_inbox(actor: Any, limit: int, now: Any) -> list[Any]:
    """The todo page as it was before the rewrite: one predicate with ORs, sorted."""
    from sqlalchemy import and_, or_, select

    from app.extensions import db
    from app.workflow.models import HumanTask as H

    by_role = and_(H.candidate_user_id.is_(None), H.candidate_role.in_(sorted(actor.roles)),
                   or_(H.candidate_department_id.is_(None), H.candidate_department_id == actor.department_id))
    query = (
        select(H.__table__)
        .where(H.agency_id == actor.agency_id, H.state == "open",
               or_(H.candidate_user_id == actor.user_id, by_role), H.claimed_by_id.is_(None),
               or_(H.due_at.is_(None), H.due_at >= now))
        .order_by(H.due_at.asc().nulls_last(), H.id.asc())
        .limit(limit)
    )
    return list(db.session.execute(query))


def random_actor(rng: random.Random, agencies: list[tuple[int, int, list[int]]]) -> Any:
    from app.workflow.info import ActorRef

    idx, agency_id, depts = rng.choice(agencies)
    user = idx * 1000 + 1 + int(STAFF_PER_AGENCY * rng.random() ** 2)
    roles = rng.choice([("specialist",), ("specialist",), ("head",), ("head", "specialist"), ("clerk",),
                        ("leader",), ("legal",), ("clerk", "legal")])
    dept = rng.choice(depts) if depts and ("head" in roles or "specialist" in roles) else None
    return ActorRef(user_id=user, agency_id=agency_id, roles=frozenset(roles), department_id=dept)


def measure_inbox(agencies: list[tuple[int, int, list[int]]], queries: int, legacy: bool) -> dict[str, list[float]]:
    from app.core import clock
    from app.extensions import db
    from app.workflow import queries as wfq

    rng = random.Random(7)
    timings: dict[str, list[float]] = {"todo": [], "overdue": [], "done": [], "count todo": []}
    now = clock.now()
    for i in range(queries + 50):
        actor = random_actor(rng, agencies)
        calls = {"todo": lambda a=actor: legacy_inbox(a, 30, now)} if legacy else {
            "todo": lambda a=actor: wfq.inbox(a, "todo", limit=30, now=now),
            "overdue": lambda a=actor: wfq.inbox(a, "overdue", limit=30, now=now),
            "done": lambda a=actor: wfq.inbox(a, "done", limit=30, now=now),
            "count todo": lambda a=actor: wfq.count_inbox(a, "todo", now=now),
        }
        for name, call in calls.items():
            t0 = time.perf_counter()
            call()
            elapsed = (time.perf_counter() - t0) * 1e3
            db.session.rollback()
            if i >= 50:  # the first 50 warm the buffer cache and statement caches
                timings[name].append(elapsed)
    return {k: v for k, v in timings.items() if v}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def bench_inbox(args: argparse.Namespace) -> None:
    import logging

    import psycopg

    logging.disable(logging.INFO)
    base_url = os.environ.get("DATABASE_URL", "").replace("postgresql+psycopg://", "postgresql://")
    if not base_url.startswith(("postgresql://", "postgres://")):
        sys.exit("--inbox needs DATABASE_URL=postgresql://… (a scratch database is created next to it)")
    server, _, _ = base_url.rpartition("/")
    name = f"qlvb_inbox_bench_{os.getpid()}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        tmp = Path(tempfile.mkdtemp(prefix="qlvb_inbox_"))
        app, _ = make_app(tmp, f"{server}/{name}")
        with app.app_context():
            run_inbox(args, f"{server}/{name}")
        with app.app_context():
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()
    finally:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_inbox(args: argparse.Namespace, url: str) -> None:
    import psycopg

    from app.extensions import db

    sizes = [int(s) for s in args.sizes.split(",")]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # synthetic users/instances: skip FK triggers
        conn.execute("CREATE TABLE bench_agency (idx int, agency_id int, depts int[])")
        conn.execute(
            "INSERT INTO bench_agency SELECT (row_number() OVER (ORDER BY a.id) - 1)::int, a.id,"
            " (SELECT array_agg(d.id ORDER BY d.id) FROM department d WHERE d.agency_id = a.id)"
            " FROM agency a ORDER BY a.id LIMIT %(n)s", {"n": AGENCIES},
        )
        agencies = [(r[0], r[1], list(r[2] or [])) for r in conn.execute("SELECT * FROM bench_agency ORDER BY idx")]
        if args.legacy:
            for name in ("ix_human_task_open_user", "ix_human_task_open_role", "ix_human_task_open_role_dept",
                         "ix_human_task_open_claimed", "ix_human_task_done_by"):
                conn.execute(f"DROP INDEX {name}")
            for ddl in LEGACY_INDEXES:
                conn.execute(ddl)
        print(f"inbox bench on a scratch PostgreSQL database, {len(agencies)} agencies, {STAFF_PER_AGENCY} staff "
              f"each; 12% open, 83% done, 5% cancelled; 45% of tasks for a named person; page of 30"
              + (" -- LEGACY query and indexes" if args.legacy else ""))
        done, p95 = 0, {}
        for size in sizes:
            t0 = time.perf_counter()
            conn.execute(FILL_SQL, {"lo": done + 1, "hi": size, "staff": STAFF_PER_AGENCY, "agencies": len(agencies)})
            conn.execute("ANALYZE human_task")
            fill_s = time.perf_counter() - t0
            done = size
            timings = measure_inbox(agencies, args.queries, args.legacy)
            db.session.remove()
            parts = " | ".join(f"{k} p50 {pct(v, 50):.2f} p95 {pct(v, 95):.2f} ms" for k, v in timings.items())
            print(f"  {size:>9,} tasks (filled in {fill_s:.0f} s): {parts}")
            p95[size] = pct(timings["todo"], 95)
        first, last = sizes[0], sizes[-1]
        print(f"(c) inbox todo page p95: {p95[first]:.2f} ms at {first:,} | {p95[last]:.2f} ms at {last:,} | "
              f"ratio {p95[last] / p95[first]:.2f} (target p95 <= 20 ms, ratio close to 1)")
        if args.explain:
            explain(agencies)


def explain(agencies: list[tuple[int, int, list[int]]]) -> None:
    from sqlalchemy import DateTime, bindparam, text

    from app.extensions import db
    from app.workflow.queries import page_statement

    rng = random.Random(11)
    actor = next(a for a in (random_actor(rng, agencies) for _ in range(100)) if a.department_id and len(a.roles) > 1)
    statement, params = page_statement(actor, "todo", 30)
    sql = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + str(statement)
    print(f"EXPLAIN (ANALYZE, BUFFERS) todo page of {actor}:")
    explained = text(sql).bindparams(bindparam("now", type_=DateTime(timezone=True)))
    for (line,) in db.session.connection().execute(explained, params):
        print("   ", line)
    db.session.rollback()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--routes", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--inbox", action="store_true", help="run (c), the inbox at scale (PostgreSQL)")
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--queries", type=int, default=400)
    ap.add_argument("--legacy", action="store_true", help="with --inbox: the query and indexes before the rewrite")
    ap.add_argument("--explain", action="store_true", help="with --inbox: print one EXPLAIN ANALYZE at the end")
    args = ap.parse_args()
    if args.inbox:
        bench_inbox(args)
    else:
        bench_routes(args)


if __name__ == "__main__":
    main()
