"""Bounded load test on loopback, driven by Locust: officials working their inbox and completing tasks, clerks
registering incoming documents and specialists searching, against gunicorn as `make run` serves it, then a check
in the database that nothing was lost.

    .venv/bin/python bench/load.py                                   # 50 users, 180 s, SQLite in a temp dir
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/load.py --users 50 --seconds 180

Prints, per request kind, Locust's count, failures, p50 and p95; errors (target 0); p95 of all requests
(target ≤ 200 ms); lost updates (an accepted completion not done, a step completed twice, an instance with two
open steps, a registration missing or stored twice) and gaps in the register's numbers (targets 0).
Exit status 1 when any error, lost update or gap was seen.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AGENCY = "isotttt"
WEIGHTS = {"officials": 6, "clerks": 2, "searchers": 2}  # as in bench/locustfile.py
ROLES = {"officials": "leader", "clerks": "clerk", "searchers": "specialist"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(instance: Path, database_url: str, users: int, open_tasks: int) -> dict[str, list[list[str]]]:
    """Migrate, seed the accounts of each kind and the running instances (before the server starts)."""
    os.environ["QLVB_INSTANCE_DIR"] = str(instance)
    from app import create_app
    from app.cli.main import run_init
    from app.extensions import db
    from app.tenancy.accounts import create_staff_account
    from app.tenancy.queries import agency_by_code
    from app.workflow import services as wf
    from app.workflow.info import ActorRef
    from tests.integration.faults.diagram import DIAGRAM
    from tests.integration.faults.diagram import ROLES as KNOWN_ROLES

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "QLVB_INSTANCE_DIR": str(instance),
                      "QLVB_UPLOAD_DIR": str(instance / "files")})
    total = sum(WEIGHTS.values())
    seed: dict[str, list[list[str]]] = {}
    with app.app_context():
        run_init()
        agency = agency_by_code(AGENCY)
        wf.publish_version(agency.id, "fault_test", DIAGRAM, by_user_id=None, note="load", known_roles=KNOWN_ROLES,
                           known_forms=None, known_operations=frozenset())
        for kind, weight in WEIGHTS.items():
            seed[kind] = []
            for i in range(-(-users * weight // total) + 1):  # one account per Locust user of that kind, and one more
                email, password = f"{kind[:-1]}{i}-{secrets.token_hex(3)}@{AGENCY}.vn", "Tai-" + secrets.token_hex(8)
                create_staff_account(agency_code=AGENCY, full_name=f"Cán bộ tải {kind} {i}", email=email,
                                     roles=[ROLES[kind]], password=password)
                seed[kind].append([email, password])
        starter = db.session.scalar(db.select(db.text("id")).select_from(db.text("ab_user")).where(
            db.text("email = :e")).params(e=seed["officials"][0][0]))
        actor = ActorRef(user_id=int(starter), agency_id=agency.id, roles=frozenset({"leader"}))
        for k in range(open_tasks):
            wf.start_instance(agency.id, "fault_test", subject_type="load", subject_id=k, data={}, actor=actor)
            if k % 200 == 199:
                db.session.commit()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return seed


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise SystemExit(f"the server stopped at start (exit {server.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start in 60 s")


def _locust_rows(prefix: Path) -> list[dict[str, str]]:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _failures(prefix: Path) -> list[str]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as f:
        return [f"{r['Method']} {r['Name']}: {r['Error']} ×{r['Occurrences']}" for r in csv.DictReader(f)]


def verify(database_url: str, ledger: Path) -> tuple[int, int]:
    """(lost updates, gaps): every completion the server accepted is done; no step was completed twice and no
    instance has two open steps; each accepted registration is stored once; the year's numbers run 1..N."""
    from sqlalchemy import create_engine, text

    lines = ledger.read_text(encoding="utf-8").splitlines() if ledger.exists() else []
    done = {int(line.split()[1]) for line in lines if line.startswith("done ")}
    registered = [line.split(" ", 1)[1] for line in lines if line.startswith("registered ")]
    engine = create_engine(database_url)
    lost = gaps = 0
    with engine.connect() as conn:
        done_rows = {r[0] for r in conn.execute(text("SELECT id FROM human_task WHERE state = 'done'"))}
        lost += len(done - done_rows)
        lost += len(conn.execute(text(
            "SELECT instance_id, bpmn_id FROM instance_event WHERE kind = 'completed' AND bpmn_id IS NOT NULL "
            "GROUP BY instance_id, bpmn_id HAVING count(*) > 1")).all())
        lost += len(conn.execute(text(
            "SELECT instance_id FROM human_task WHERE state = 'open' GROUP BY instance_id HAVING count(*) > 1")).all())
        rows = conn.execute(text(
            "SELECT d.number_notation, d.number FROM document d JOIN agency a ON a.id = d.agency_id "
            "WHERE a.code = :c AND d.direction = 'incoming'"), {"c": AGENCY}).all()
        stored = [r[0] for r in rows]
        lost += len(set(registered) - set(stored)) + (len(stored) - len(set(stored)))
        numbers = sorted(r[1] for r in rows)
        gaps = sum(1 for a, b in zip([0, *numbers], numbers, strict=False) if b != a + 1)
    engine.dispose()
    return lost, gaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=180, help="bounded run time (≤ 600)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="stop earlier after this many requests")
    parser.add_argument("--open-tasks", type=int, default=2000, help="tasks waiting in the pool at the start")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (make run: 2, 8 threads each)")
    args = parser.parse_args()
    seconds = max(10, min(args.seconds, 600))
    tmp = Path(tempfile.mkdtemp(prefix="qlvb-load-"))
    database_url = os.environ.get("DATABASE_URL", "")
    created_pg = None
    if database_url.startswith("postgres"):
        import psycopg

        plain = database_url.replace("postgresql+psycopg://", "postgresql://")
        created_pg = f"qlvb_load_{secrets.token_hex(3)}"
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{created_pg}"')
        database_url = "postgresql+psycopg://" + plain.split("://", 1)[1].rsplit("/", 1)[0] + "/" + created_pg
    else:
        database_url = f"sqlite:///{tmp / 'qlvb.sqlite3'}"  # the file the server finds in its instance dir
    print(f"preparing {args.users} users and {args.open_tasks} open tasks in {tmp} "
          f"({database_url.split('://')[0]}) …", flush=True)
    seed = prepare(tmp, database_url, args.users, args.open_tasks)
    port = _free_port()
    seed_file, ledger, prefix = tmp / "seed.json", tmp / "ledger.txt", tmp / "locust"
    seed_file.write_text(json.dumps({**seed, "host": f"{AGENCY}.localhost:{port}"}), encoding="utf-8")
    env = {**os.environ, "QLVB_INSTANCE_DIR": str(tmp), "DATABASE_URL": database_url.replace("+psycopg", ""),
           "QLVB_LOGIN_RATE_LIMIT_PER_IP": "100000 per minute", "QLVB_FAB_UPDATE_PERMS": "0",
           "QLVB_WORKERS": "0", "PYTHONPATH": str(ROOT)}
    if not database_url.startswith("postgres"):
        env.pop("DATABASE_URL")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server_log, locust_log = open(tmp / "server.log", "wb"), open(tmp / "locust.log", "wb")  # noqa: SIM115
    server = subprocess.Popen([str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
                               "--threads", "8", "--timeout", "120", "app:create_app()"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=server_log)
    try:
        _wait_for(port, server)
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                        "--users", str(args.users), "--spawn-rate", str(max(1, args.users // 5)),
                        "--run-time", f"{seconds}s", "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix),
                        "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10"],
                       env={**os.environ, "QLVB_LOAD_SEED": str(seed_file), "QLVB_LOAD_LEDGER": str(ledger),
                            "QLVB_LOAD_MAX_REQUESTS": str(args.max_requests)},
                       stdout=subprocess.DEVNULL, stderr=locust_log, check=False,
                       timeout=seconds + 120)
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
        server_log.close()
        locust_log.close()
    rows = _locust_rows(prefix)
    failures = _failures(prefix)
    lost, gaps = verify(database_url, ledger)
    print(f"\nLocust, {args.users} users ({', '.join(f'{k} {w}' for k, w in WEIGHTS.items())} by weight), "
          f"{elapsed:.0f} s against gunicorn {args.workers}×8 on loopback ({database_url.split('://')[0]})")
    aggregated = None
    for r in rows:
        if r["Name"] == "Aggregated":
            aggregated = r
            continue
        print(f"  {r['Name']:<18} n={r['Request Count']:<6} failures={r['Failure Count']:<4} "
              f"p50={r['50%']:>5} ms  p95={r['95%']:>5} ms")
    if aggregated is not None:
        work = [r for r in rows if r["Name"] not in ("Aggregated", "login", "login form")]
        worst = max(work, key=lambda r: int(r["95%"] or 0), default=None)
        print(f"all requests: {aggregated['Request Count']} ({float(aggregated['Requests/s']):.1f} req/s), "
              f"p95 {aggregated['95%']} ms with logins (argon2 on purpose); worst p95 of the work: "
              + (f"{worst['95%']} ms ({worst['Name']})" if worst else "–") + " (target ≤ 200)")
    print(f"server log: {tmp / 'server.log'}; Locust log: {tmp / 'locust.log'}")
    errors = sum(int(r["Failure Count"]) for r in rows if r["Name"] != "Aggregated")
    print(f"errors: {errors} (target 0)" + "".join(f"\n  {f}" for f in failures[:10]))
    print(f"lost updates: {lost} (target 0); gaps in the register's numbers: {gaps} (target 0)")
    if created_pg:
        import psycopg

        with psycopg.connect(os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://"),
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{created_pg}" WITH (FORCE)')
    sys.exit(1 if errors or lost or gaps else 0)


if __name__ == "__main__":
    main()
