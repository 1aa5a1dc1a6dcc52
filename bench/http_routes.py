#!/usr/bin/env python3
"""The incoming and outgoing routes as users drive them over HTTP, against the service layer in process.

Run: .venv/bin/python bench/http_routes.py [--routes 10] [--runs 3] [--open-tasks 1000] [--db postgresql://…]

A scratch database (a temporary SQLite file, or with --db a database created next to the one named and dropped
at the end) is set up as `make run` does it (`flask qlvb init`, `flask qlvb demo`), then gunicorn serves it as
`make serve` does (2 workers, 8 threads, access log on). One sequential keep-alive client per demo official
(httpx) logs in for real (CSRF token from the login page) and drives:
  incoming: the clerk registers a document (start) and opens it (document page); then leader, head, specialist
            and head each open the inbox, the task page and complete the step (completion; its redirect lands on
            the inbox again);
  outgoing: a specialist drafts a reply (start), then the head reviews, the leader approves and signs with the PIN
            of his demo certificate and the clerk issues it with the agency's seal PIN (instance/demo_pins.txt);
            the system delivers it to Sở Tư pháp.
In the same run, interleaved, the in-process service layer does the same routes on the same database (start,
the document read, and per step the inbox query, the task read, complete_task and a commit). Prints routes/s
both ways and their ratio (target >= 0.25), p50/p95 per request kind (targets: completion p95 <= 10 ms, task
page, inbox and document page p95 <= 10 ms) and, with --open-tasks N, the leader's inbox with N more open tasks
(registered in process before the server starts). Loopback only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = Path(sys.executable).parent

AGENCY = "isotttt"
PEOPLE = {  # the demo officials of Sở TTTT who walk the routes (app/demo.py)
    "clerk": "vanthu.stttt@vinhphuc.gov.vn", "leader": "giamdoc.stttt@vinhphuc.gov.vn",
    "head": "tp.cntt.stttt@vinhphuc.gov.vn", "specialist": "cv1.cntt.stttt@vinhphuc.gov.vn",
}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
KINDS = ("start", "document page", "inbox", "task page", "completion")


def register_values(n: str) -> dict[str, Any]:
    return {"doc_type": "cong_van", "number_notation": f"{n}/UBND-VP", "issuer_name": "UBND tỉnh Vĩnh Phúc",
            "issue_date": "20/11/2026", "summary": f"Về việc triển khai chuyển đổi số, đợt {n}",
            "urgency": "thuong", "confidentiality": "thuong", "channel": "paper", "pages": "2"}


def draft_values(n: str, signer_id: int) -> dict[str, Any]:
    return {"doc_type": "cong_van", "summary": f"Trả lời về việc chuyển đổi số, đợt {n}",
            "body": "Sở Thông tin và Truyền thông trả lời như sau.", "recipients": "- Sở Tư pháp;\n- Lưu: VT, CNTT.",
            "recipient_agency_codes": ["isotp"], "urgency": "thuong", "signer_id": str(signer_id)}


@dataclass(frozen=True)
class Step:
    who: str
    form: Callable[[dict[str, Any]], dict[str, Any]]  # the posted form values, given the org's ids and PINs
    pin: str | None = None  # whose PIN goes with it: "leader" (personal certificate) or "clerk" (the seal)


INCOMING_STEPS = (
    Step("leader", lambda o: {"lead_department_id": str(o["dept_id"]), "deadline": "30/12/2027",
                              "direction": "Đề nghị phòng CNTT chủ trì"}),
    Step("head", lambda o: {"specialist_id": str(o["specialist_id"]), "deadline": "25/12/2027"}),
    Step("specialist", lambda o: {"result": "Đã xây dựng dự thảo kế hoạch"}),
    Step("head", lambda o: {"decision": "complete", "comment": "Đồng ý"}),
)
OUTGOING_STEPS = (
    Step("head", lambda o: {"decision": "approve"}),
    Step("leader", lambda o: {"decision": "approve"}, pin="leader"),
    Step("clerk", lambda o: {"copies": "1"}, pin="clerk"),
)


@dataclass
class Timings:
    by_kind: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    route_s: dict[str, list[float]] = field(default_factory=lambda: {"incoming": [], "outgoing": []})

    def add(self, kind: str, seconds: float) -> None:
        self.by_kind.setdefault(kind, []).append(seconds)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the scratch database and the server -------------------------------------------------------------------
@contextlib.contextmanager
def scratch_database(db: str | None, tmp: Path) -> Iterator[str]:
    """A DATABASE_URL for this run: a SQLite file in ``tmp``, or a fresh PostgreSQL database beside ``db``."""
    if not db:
        yield f"sqlite:///{tmp / 'http_bench.sqlite3'}"
        return
    import psycopg

    base = db.replace("postgresql+psycopg://", "postgresql://")
    server, _, _ = base.rpartition("/")
    name = f"qlvb_http_bench_{os.getpid()}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(url: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QLVB_")}
    env.update({"DATABASE_URL": url, "QLVB_INSTANCE_DIR": str(tmp / "instance"), "FLASK_APP": "app:create_app",
                "SECRET_KEY": "bench-" + secrets.token_hex(24), "QLVB_EMBEDDED_JOBS": "0"})
    return env


def make_run_setup(env: dict[str, str], port: int) -> None:
    """What `make init demo` does, in the scratch instance folder."""
    for args in (["qlvb", "init"], ["qlvb", "demo", "--host-port", str(port)]):
        subprocess.run([str(VENV_BIN / "flask"), *args], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


@contextlib.contextmanager
def gunicorn(env: dict[str, str], port: int, log: Path, workers: int) -> Iterator[None]:
    """The app as `make serve` serves it."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", "8",
             "--timeout", "120", "--access-logfile", "-", "app:create_app()"],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError(f"gunicorn exited: {log.read_text(errors='replace')[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    httpx.get(f"http://127.0.0.1:{port}/login/", headers={"Host": f"{AGENCY}.localhost"}, timeout=2)
                    break
                time.sleep(0.2)
            else:
                raise RuntimeError("gunicorn did not answer within 60 s")
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# -- one official in a browser ---------------------------------------------------------------------------
class Browser:
    """A keep-alive connection, the session cookie, the CSRF token of the last page with a form."""

    def __init__(self, port: int, timings: Timings):
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                                   headers={"Host": f"{AGENCY}.localhost:{port}"})
        self.timings = timings
        self.token = ""
        self.route_s = 0.0

    def request(self, kind: str | None, method: str, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
        t0 = time.perf_counter()
        resp = self.client.request(method, path, data=data)
        elapsed = time.perf_counter() - t0
        if kind is not None:
            self.timings.add(kind, elapsed)
        self.route_s += elapsed
        if resp.status_code >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {resp.status_code}\n{_text(resp)[-1500:]}")
        m = CSRF.search(resp.text) if "csrf_token" in resp.text else None
        if m:
            self.token = next(g for g in m.groups() if g)
        return resp

    def post(self, kind: str, path: str, values: dict[str, Any]) -> httpx.Response:
        resp = self.request(kind, "POST", path, {**values, "csrf_token": self.token})
        if resp.status_code != 302:
            raise RuntimeError(f"POST {path} was not accepted (HTTP {resp.status_code}):\n{_text(resp)[-1500:]}")
        return resp

    def follow(self, kind: str, resp: httpx.Response) -> httpx.Response:
        location = resp.headers["Location"]
        return self.request(kind, "GET", httpx.URL(location).raw_path.decode())

    def login(self, email: str, password: str) -> None:
        self.request(None, "GET", "/login/")
        resp = self.request(None, "POST", "/login/", {"username": email, "password": password,
                                                      "csrf_token": self.token})
        if resp.status_code != 302 or "/login" in resp.headers.get("Location", ""):
            raise RuntimeError(f"login failed for {email}")


def _text(resp: httpx.Response) -> str:
    return re.sub(r"\s+", " ", resp.text)


# -- the in-process side: the same app, the same database ---------------------------------------------------
class Office:
    """The demo officials as actors, their passwords and PINs, and lookups the HTTP side uses (not timed)."""

    def __init__(self, url: str, tmp: Path):
        from app import create_app

        os.environ["QLVB_INSTANCE_DIR"] = str(tmp / "instance")
        sa_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": sa_url, "QLVB_INSTANCE_DIR": str(tmp / "instance"),
                               "QLVB_EMBEDDED_JOBS": False})
        self.ctx = self.app.app_context()
        self.ctx.push()
        from app.tenancy.accounts import staff_by_email
        from app.tenancy.queries import agency_by_code
        from app.workflow.info import ActorRef

        instance = tmp / "instance"
        passwords = dict(line.split(" ", 1) for line in (instance / "demo_accounts.txt").read_text().splitlines())
        pins = dict(line.split(" ", 1) for line in (instance / "demo_pins.txt").read_text().splitlines())
        self.agency = agency_by_code(AGENCY)
        self.actors: dict[str, Any] = {}
        self.passwords, self.pins = {}, {}
        from flask_appbuilder.security.sqla.models import User

        from app.extensions import db

        for key, email in PEOPLE.items():
            staff = staff_by_email(email)
            roles = frozenset(r.name for r in db.session.get(User, staff.user_id).roles)
            self.actors[key] = ActorRef(staff.user_id, self.agency.id, roles, staff.department_id)
            self.passwords[key] = passwords[email]
            self.pins[key] = pins.get(email)
        self.ids = {"dept_id": self.actors["head"].department_id, "specialist_id": self.actors["specialist"].user_id,
                    "signer_id": self.actors["leader"].user_id}
        self._validated: dict[tuple[str, str], dict[str, Any]] = {}
        db.session.commit()

    def close(self) -> None:
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
        self.ctx.pop()

    def instance_of(self, direction: str, document_id: int) -> int:
        from app.workflow.queries import instances_for_subject

        found = instances_for_subject(direction, document_id)
        self.rollback()
        return found[-1].id

    def open_task(self, instance_id: int) -> Any:
        from app.workflow.queries import open_tasks

        tasks = open_tasks(instance_id)
        self.rollback()
        return tasks[0] if tasks else None

    def rollback(self) -> None:
        from app.extensions import db

        db.session.rollback()

    def validated(self, form_key: str, values: dict[str, Any]) -> dict[str, Any]:
        """What the page's form validation hands the service (done once per form: not part of the timing)."""
        from werkzeug.datastructures import MultiDict

        from app.designer.forms import effective_form
        from app.forms import build_form, validate_submission
        from app.web.choices import AgencyChoices

        key = (form_key, repr(sorted(values.items())))
        if key not in self._validated:
            defn = effective_form(self.agency.id, form_key, Path(self.app.config["QLVB_FORMS_DIR"]))
            formdata = MultiDict([(k, x) for k, v in values.items() for x in (v if isinstance(v, list) else [v])])
            with self.app.test_request_context():
                form = build_form(defn, choices=AgencyChoices(self.agency.id, AGENCY), formdata=formdata, csrf=False)
                self._validated[key] = validate_submission(defn, form)
        return dict(self._validated[key])


def seed_open_tasks(office: Office, n: int) -> None:
    """``n`` registered documents waiting for the leader's assignment: his inbox then holds n open tasks more."""
    from app.documents import services as ds
    from app.extensions import db

    data = office.validated("incoming_register", register_values("seed"))
    for i in range(n):
        ds.register_incoming(office.agency.id, actor=office.actors["clerk"],
                             data={**data, "number_notation": f"{i + 1}/SEED-VP", "summary": f"Văn bản tồn {i + 1}"})
        if i % 100 == 99:
            db.session.commit()
    db.session.commit()


# -- the routes, both ways --------------------------------------------------------------------------------------
def http_route(office: Office, browsers: dict[str, Browser], direction: str, n: str, timings: Timings) -> None:
    for b in browsers.values():
        b.route_s = 0.0
    starter = browsers["clerk" if direction == "incoming" else "specialist"]
    if direction == "incoming":
        starter.request(None, "GET", "/documents/incoming/new")
        resp = starter.post("start", "/documents/incoming/new", register_values(n))
        steps = INCOMING_STEPS
    else:
        starter.request(None, "GET", "/documents/outgoing/new")
        resp = starter.post("start", "/documents/outgoing/new", draft_values(n, office.ids["signer_id"]))
        steps = OUTGOING_STEPS
    starter.follow("document page", resp)
    document_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    instance_id = office.instance_of(direction, document_id)
    for step in steps:
        task = office.open_task(instance_id)
        b = browsers[step.who]
        b.request("inbox", "GET", "/inbox/")
        b.request("task page", "GET", f"/tasks/{task.id}")
        values = step.form(office.ids)
        if step.pin:
            values["pin"] = office.pins[step.pin]
        b.follow("inbox", b.post("completion", f"/tasks/{task.id}", values))
    if office.open_task(instance_id) is not None:
        raise RuntimeError(f"{direction} route {n} did not finish")
    timings.route_s[direction].append(sum(b.route_s for b in browsers.values()))


def service_route(office: Office, direction: str, n: str, timings: Timings) -> None:
    from app.documents import queries as dq
    from app.documents import services as ds
    from app.extensions import db
    from app.workflow import queries as wfq
    from app.workflow import services as wf

    actors = office.actors
    if direction == "incoming":
        data, steps, starter = office.validated("incoming_register", register_values("x")), INCOMING_STEPS, "clerk"
        data.update(number_notation=f"{n}/UBND-VP", summary=f"Về việc triển khai chuyển đổi số, đợt {n}")
    else:
        data = office.validated("outgoing_draft", draft_values("x", office.ids["signer_id"]))
        data.update(summary=f"Trả lời về việc chuyển đổi số, đợt {n}")
        steps, starter = OUTGOING_STEPS, "specialist"
    prepared = []
    spent = 0.0
    t0 = time.perf_counter()
    if direction == "incoming":
        doc = ds.register_incoming(office.agency.id, actor=actors[starter], data=data)
    else:
        doc = ds.create_outgoing_draft(office.agency.id, actor=actors[starter], data=data)
    db.session.commit()
    t1 = time.perf_counter()
    timings.add("start", t1 - t0)
    dq.get_document(office.agency.id, doc.id, actors[starter])
    db.session.rollback()
    t2 = time.perf_counter()
    timings.add("document page", t2 - t1)
    spent += t2 - t0
    instance_id = office.instance_of(direction, doc.id)
    for step in steps:
        task = office.open_task(instance_id)
        form_data = office.validated(task.form_key, step.form(office.ids)) if task.form_key else {}
        prepared.append(task.id)
        inputs: dict[str, Any] = {"files": {}}
        if step.pin:
            inputs["pin"] = office.pins[step.pin]
        t0 = time.perf_counter()
        wfq.inbox(actors[step.who], "todo", limit=30)
        db.session.rollback()
        t1 = time.perf_counter()
        wfq.get_task(task.id)
        db.session.rollback()
        t2 = time.perf_counter()
        wf.complete_task(task.id, actors[step.who], form_data, comment=form_data.get("comment"), inputs=inputs)
        db.session.commit()
        t3 = time.perf_counter()
        timings.add("inbox", t1 - t0)
        timings.add("task page", t2 - t1)
        timings.add("completion", t3 - t2)
        spent += t3 - t0
    if office.open_task(instance_id) is not None:
        raise RuntimeError(f"in-process {direction} route {n} did not finish")
    timings.route_s[direction].append(spent)


def inbox_with_open_tasks(browsers: dict[str, Browser], requests: int) -> list[float]:
    b = browsers["leader"]
    out = []
    for _ in range(requests):
        t0 = time.perf_counter()
        b.request(None, "GET", "/inbox/")
        out.append(time.perf_counter() - t0)
    return out


def print_kinds(label: str, timings: Timings) -> None:
    parts = []
    for kind in KINDS:
        values = timings.by_kind.get(kind) or []
        if values:
            parts.append(f"{kind} p50 {pct(values, 50) * 1e3:.1f} p95 {pct(values, 95) * 1e3:.1f} ms (n={len(values)})")
    print(f"  {label}: " + " | ".join(parts))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--routes", type=int, default=10, help="routes of each direction per run and side")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--open-tasks", type=int, default=0, help="open tasks added to the leader's inbox first")
    ap.add_argument("--db", default=None, help="postgresql://… (a scratch database is created beside it)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder (server log, instance)")
    args = ap.parse_args()
    if args.routes < 1 or args.routes > 500 or args.runs < 1 or args.runs > 20:
        sys.exit("--routes 1..500, --runs 1..20")
    tmp = Path(tempfile.mkdtemp(prefix="qlvb_http_"))
    port = _free_port()
    try:
        with scratch_database(args.db, tmp) as url:
            run(args, url, tmp, port)
    finally:
        if args.keep:
            print(f"scratch folder kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, url: str, tmp: Path, port: int) -> None:
    import logging

    env = server_env(url, tmp)
    make_run_setup(env, port)
    logging.disable(logging.INFO)
    office = Office(url, tmp)
    try:
        if args.open_tasks:
            seed_open_tasks(office, args.open_tasks)
        with gunicorn(env, port, tmp / "gunicorn.log", args.workers):
            http_t, svc_t = Timings(), Timings()
            browsers = {}
            for key in PEOPLE:
                browsers[key] = Browser(port, http_t)
                browsers[key].login(PEOPLE[key], office.passwords[key])
            # warm both sides (templates, mappers, statement caches, the workflow cache of each worker)
            warm = Timings()
            for b in browsers.values():
                b.timings = warm
            for i in range(2 * args.workers):
                for direction in ("incoming", "outgoing"):
                    http_route(office, browsers, direction, f"w{i}", warm)
                    service_route(office, direction, f"sw{i}", warm)
            for b in browsers.values():
                b.timings = http_t
            db_kind = "postgresql" if url.startswith("postgres") else "sqlite"
            print(f"db={db_kind} runs={args.runs} routes/run={args.routes} per direction; gunicorn --workers "
                  f"{args.workers} --threads 8 on loopback; sequential keep-alive clients (httpx), real login and "
                  f"CSRF; open tasks added to the leader's inbox: {args.open_tasks}")
            ratios: dict[str, list[float]] = {"incoming": [], "outgoing": []}
            for run_no in range(args.runs):
                per_run_http, per_run_svc = Timings(), Timings()
                for b in browsers.values():
                    b.timings = per_run_http
                for i in range(args.routes):
                    for direction in ("incoming", "outgoing"):
                        http_route(office, browsers, direction, f"h{run_no}-{i}", per_run_http)
                        service_route(office, direction, f"s{run_no}-{i}", per_run_svc)
                for target, source in ((http_t, per_run_http), (svc_t, per_run_svc)):
                    for kind, values in source.by_kind.items():
                        target.by_kind.setdefault(kind, []).extend(values)
                    for direction, values in source.route_s.items():
                        target.route_s[direction].extend(values)
                line = []
                for direction in ("incoming", "outgoing"):
                    h = len(per_run_http.route_s[direction]) / sum(per_run_http.route_s[direction])
                    s = len(per_run_svc.route_s[direction]) / sum(per_run_svc.route_s[direction])
                    ratios[direction].append(h / s)
                    line.append(f"{direction} HTTP {h:.2f} routes/s, in process {s:.2f} routes/s, ratio {h / s:.2f}")
                print(f"run {run_no + 1}: " + " | ".join(line))
            for direction in ("incoming", "outgoing"):
                h = len(http_t.route_s[direction]) / sum(http_t.route_s[direction])
                s = len(svc_t.route_s[direction]) / sum(svc_t.route_s[direction])
                spread = ratios[direction]
                print(f"{direction}: HTTP {h:.2f} routes/s | in-process service layer {s:.2f} routes/s | ratio "
                      f"{h / s:.2f} (runs {min(spread):.2f}–{max(spread):.2f}; target >= 0.25)")
            print("per request kind, all runs:")
            print_kinds("HTTP      ", http_t)
            print_kinds("in process", svc_t)
            inbox = inbox_with_open_tasks(browsers, 200)
            print(f"leader's inbox page over HTTP ({args.open_tasks} open tasks added): p50 "
                  f"{pct(inbox, 50) * 1e3:.1f} p95 {pct(inbox, 95) * 1e3:.1f} ms (n=200; target p95 <= 10 ms)")
            for b in browsers.values():
                b.client.close()
    finally:
        office.close()


if __name__ == "__main__":
    main()
