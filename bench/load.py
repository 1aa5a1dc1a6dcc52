"""Bounded load test on loopback: N concurrent officials completing workflow tasks and agency admins editing
their org structure through HTTP against a real server process, then a check that nothing was lost.

    .venv/bin/python bench/load.py --users 50 --seconds 60      # SQLite in a temp dir
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/load.py --seconds 60

Prints requests/s, p50/p95 latency per operation, errors, and lost updates counted in the database.
Officials complete tasks, clerks register incoming documents (checked: each once, numbers 1..N without gaps)
and agency admins edit their org structure.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AGENCY = "isotttt"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, op: str, seconds: float) -> None:
        with self.lock:
            self.latencies.setdefault(op, []).append(seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


class Browser:
    """One official: a keep-alive connection, the session cookie, the CSRF token of the last page."""

    def __init__(self, port: int, host: str, stats: Stats):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.host = host
        self.cookie = ""
        self.stats = stats

    def request(self, op: str, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        headers = {"Host": self.host, "Cookie": self.cookie}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        self.stats.add(op, time.perf_counter() - started)
        for key, value in resp.getheaders():
            if key.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return resp.status, resp.getheader("Location") or "", text

    def token(self, path: str) -> str:
        status, _, text = self.request("get_form", "GET", path)
        m = CSRF.search(text)
        if status != 200 or not m:
            raise RuntimeError(f"no form at {path}: {status}")
        return m.group(1)

    def login(self, email: str, password: str) -> None:
        token = self.token("/login/")
        status, location, _ = self.request("login", "POST", "/login/",
                                           {"username": email, "password": password, "csrf_token": token})
        if status != 302 or "/login" in location:
            raise RuntimeError(f"login failed for {email}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(instance: Path, database_url: str, users: int, tasks_per_user: int) -> dict[str, object]:
    """Migrate, seed officials, admins and running instances (in this process, before the server starts)."""
    os.environ["QLVB_INSTANCE_DIR"] = str(instance)
    from app import create_app
    from app.cli.main import run_init
    from app.extensions import db
    from app.tenancy.accounts import create_staff_account
    from app.tenancy.models import Department
    from app.tenancy.queries import agency_by_code
    from app.workflow import services as wf
    from app.workflow.info import ActorRef
    from tests.integration.faults.diagram import DIAGRAM, ROLES

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "QLVB_INSTANCE_DIR": str(instance),
                      "QLVB_UPLOAD_DIR": str(instance / "files")})
    # 70 % complete tasks, 20 % are clerks registering documents, 10 % admins edit the org structure.
    workers, clerks = users * 7 // 10, users * 2 // 10
    admins = users - workers - clerks
    with app.app_context():
        run_init()
        agency = agency_by_code(AGENCY)
        wf.publish_version(agency.id, "fault_test", DIAGRAM, by_user_id=None, note="load", known_roles=ROLES,
                           known_forms=None, known_operations=frozenset())
        people, editors = [], []
        for i in range(workers):
            email, password = f"load{i}-{secrets.token_hex(3)}@{AGENCY}.vn", "Tai-" + secrets.token_hex(8)
            staff = create_staff_account(agency_code=AGENCY, full_name=f"Cán bộ Tải {i}", email=email,
                                         roles=["leader"], password=password)
            actor = ActorRef(user_id=staff.user_id, agency_id=agency.id, roles=frozenset({"leader"}))
            instances = [wf.start_instance(agency.id, "fault_test", subject_type="load", subject_id=i * 100000 + k,
                                           data={}, actor=actor).id for k in range(tasks_per_user)]
            people.append((email, password, instances))
        registrars = []
        for i in range(clerks):
            email, password = f"clerk{i}-{secrets.token_hex(3)}@{AGENCY}.vn", "Tai-" + secrets.token_hex(8)
            create_staff_account(agency_code=AGENCY, full_name=f"Văn thư Tải {i}", email=email, roles=["clerk"],
                                 password=password)
            registrars.append((email, password))
        for i in range(admins):
            email, password = f"admin{i}-{secrets.token_hex(3)}@{AGENCY}.vn", "Tai-" + secrets.token_hex(8)
            create_staff_account(agency_code=AGENCY, full_name=f"Quản trị Tải {i}", email=email,
                                 roles=["agency_admin"], password=password)
            dep = Department(agency_id=agency.id, code=f"load{i}", name=f"Phòng tải {i} lần 0", sort_order=900 + i)
            db.session.add(dep)
            db.session.flush()
            editors.append((email, password, dep.id))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return {"people": people, "editors": editors, "clerks": registrars}


def _signed_in(port: int, stats: Stats, email: str, password: str) -> Browser | None:
    """A browser logged in on the agency's host, or None after recording why it could not log in."""
    b = Browser(port, f"{AGENCY}.localhost:{port}", stats)
    try:
        b.login(email, password)
    except Exception as exc:
        stats.error(str(exc))
        return None
    return b


def completer(port: int, stats: Stats, email: str, password: str, instances: list[int], deadline: float,
              done: list[int]) -> None:
    b = _signed_in(port, stats, email, password)
    if b is None:
        return
    queue = list(instances)
    while queue and time.monotonic() < deadline:
        instance_id = queue.pop(0)
        task_id = TASKS.get(instance_id)
        for step in range(2):
            try:
                path = f"/tasks/{task_id[step]}"
                token = b.token(path)
                status, _, _ = b.request("complete", "POST", path,
                                                   {"decision": "complete", "comment": "Đã xong", "csrf_token": token})
                if status != 302:
                    stats.error(f"complete {path}: {status}")
                    break
                done.append(task_id[step])
                if step == 0:
                    task_id[1] = next_task(instance_id)
            except Exception as exc:
                stats.error(f"{email}: {exc}")
                break


TASKS: dict[int, list[int]] = {}
_next_task_lock = threading.Lock()


def next_task(instance_id: int) -> int:
    from sqlalchemy import text

    with _next_task_lock, ENGINE.connect() as conn:
        return int(conn.execute(text("SELECT id FROM human_task WHERE instance_id = :i AND state = 'open'"),
                                {"i": instance_id}).scalar_one())


def editor(port: int, stats: Stats, email: str, password: str, dep_id: int, deadline: float,
           edits: dict[int, int]) -> None:
    b = _signed_in(port, stats, email, password)
    if b is None:
        return
    n = 0
    while time.monotonic() < deadline:
        path = f"/departmentadminview/edit/{dep_id}"
        try:
            token = b.token(path)
            status, _, _ = b.request("org_edit", "POST", path, {
                "code": f"x{dep_id}", "name": f"Phòng tải {dep_id} lần {n + 1}", "sort_order": "900",
                "active": "y", "csrf_token": token})
        except Exception as exc:
            stats.error(f"{email}: {exc}")
            return
        if status != 302:
            stats.error(f"org edit {dep_id}: {status}")
            return
        n += 1
        edits[dep_id] = n


def registrar(port: int, stats: Stats, email: str, password: str, deadline: float, registered: list[str]) -> None:
    """A clerk registering incoming documents (vào sổ) as fast as the server lets her."""
    b = _signed_in(port, stats, email, password)
    if b is None:
        return
    n = 0
    while time.monotonic() < deadline:
        n += 1
        notation = f"{n}/TAI-{email.split('@')[0]}"
        try:
            token = b.token("/documents/incoming/new")
            status, location, _ = b.request("register", "POST", "/documents/incoming/new", {
                "doc_type": "cong_van", "number_notation": notation, "issuer_name": "UBND tỉnh Vĩnh Phúc",
                "issue_date": "20/11/2026", "summary": f"Văn bản tải thử {notation}", "urgency": "thuong",
                "confidentiality": "thuong", "channel": "paper", "csrf_token": token})
        except Exception as exc:
            stats.error(f"{email}: {exc}")
            return
        if status != 302 or "/documents/" not in location:
            stats.error(f"register {notation}: {status}")
            return
        registered.append(notation)


ENGINE = None


def main() -> None:
    global ENGINE
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60, help="bounded run time (≤ 180)")
    parser.add_argument("--tasks-per-user", type=int, default=40)
    args = parser.parse_args()
    seconds = min(args.seconds, 180)
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
    print(f"preparing {args.users} users in {tmp} ({database_url.split('://')[0]}) …", flush=True)
    seed = prepare(tmp, database_url, args.users, args.tasks_per_user)
    from sqlalchemy import create_engine

    ENGINE = create_engine(database_url)
    for _, _, instances in seed["people"]:
        for i in instances:
            TASKS[i] = [next_task(i), 0]
    port = _free_port()
    env = {**os.environ, "QLVB_INSTANCE_DIR": str(tmp), "DATABASE_URL": database_url.replace("+psycopg", ""),
           "FLASK_APP": "app:create_app", "QLVB_LOGIN_RATE_LIMIT_PER_IP": "100000 per minute",
           "QLVB_FAB_UPDATE_PERMS": "0", "PYTHONPATH": str(ROOT)}
    if not database_url.startswith("postgres"):
        env.pop("DATABASE_URL")
    server = subprocess.Popen([sys.executable, "-m", "flask", "run", "-p", str(port), "--with-threads",
                               "--no-reload", "--no-debugger"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        stats = Stats()
        done: list[int] = []
        edits: dict[int, int] = {}
        registered: list[str] = []
        started = time.monotonic()
        deadline = started + seconds
        threads = [threading.Thread(target=completer, args=(port, stats, e, p, inst, deadline, done))
                   for e, p, inst in seed["people"]]
        threads += [threading.Thread(target=editor, args=(port, stats, e, p, d, deadline, edits))
                    for e, p, d in seed["editors"]]
        threads += [threading.Thread(target=registrar, args=(port, stats, e, p, deadline, registered))
                    for e, p in seed["clerks"]]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=20)
    ENGINE.dispose()
    lost = verify(database_url, done, edits, registered)
    total = sum(len(v) for v in stats.latencies.values())
    print(f"\n{len(seed['people'])} officials completing tasks + {len(seed['clerks'])} clerks registering + "
          f"{len(seed['editors'])} admins editing, "
          f"{elapsed:.0f} s on loopback ({database_url.split('://')[0]}, flask run --with-threads)")
    print(f"requests: {total}  ({total / elapsed:.1f} req/s)")
    for op, values in sorted(stats.latencies.items()):
        values.sort()
        p95 = values[int(len(values) * 0.95) - 1] if len(values) >= 20 else values[-1]
        print(f"  {op:<10} n={len(values):<6} p50={statistics.median(values) * 1000:7.1f} ms  "
              f"p95={p95 * 1000:7.1f} ms")
    print(f"tasks completed: {len(done)}; documents registered: {len(registered)}; org edits: {sum(edits.values())}")
    print(f"errors: {len(stats.errors)}" + ("".join(f"\n  {e}" for e in stats.errors[:10]) if stats.errors else ""))
    print(f"lost updates: {lost}")
    if created_pg:
        import psycopg

        with psycopg.connect(os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://"),
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{created_pg}" WITH (FORCE)')
    sys.exit(1 if stats.errors or lost else 0)


def verify(database_url: str, done: list[int], edits: dict[int, int], registered: list[str]) -> int:
    """Every completion the clients saw succeed is in the database exactly once; every edit's last value stuck;
    every registration is there once, and the year's incoming numbers are 1..N without a gap or repeat."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    lost = 0
    with engine.connect() as conn:
        done_rows = {r[0] for r in conn.execute(text("SELECT id FROM human_task WHERE state = 'done'"))}
        lost += len(set(done) - done_rows)
        lost += len(done) - len(set(done))  # a task completed twice would be a duplicate
        for dep_id, n in edits.items():
            name = conn.execute(text("SELECT name FROM department WHERE id = :i"), {"i": dep_id}).scalar()
            if name != f"Phòng tải {dep_id} lần {n}":
                lost += 1
        per_instance = conn.execute(text(
            "SELECT instance_id, count(*) FROM human_task WHERE state = 'open' GROUP BY instance_id HAVING count(*) > 1"
        )).all()
        lost += len(per_instance)
        rows = conn.execute(text(
            "SELECT d.number_notation, d.number FROM document d JOIN agency a ON a.id = d.agency_id "
            "WHERE a.code = :c AND d.direction = 'incoming'"), {"c": AGENCY}).all()
        stored = [r[0] for r in rows]
        lost += len(set(registered) - set(stored)) + (len(stored) - len(set(stored)))
        numbers = sorted(r[1] for r in rows)
        if numbers != list(range(1, len(numbers) + 1)):
            lost += 1  # a gap or a repeated number in the register
    engine.dispose()
    return lost


if __name__ == "__main__":
    main()
