"""Locust users of the load test (bench/load.py starts the server, seeds the accounts and runs this headless).

Officials open their inbox and complete a task from it, clerks register incoming documents, specialists search.
Credentials come from the JSON file named by QLVB_LOAD_SEED; each Locust user takes the next free account.
Every completion the server accepted is written to QLVB_LOAD_LEDGER, so bench/load.py can check none was lost.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
from pathlib import Path

from locust import HttpUser, between, events, task

SEED = json.loads(Path(os.environ["QLVB_LOAD_SEED"]).read_text(encoding="utf-8"))
HOST_HEADER = SEED["host"]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TASK_LINK = re.compile(r'href="/tasks/(\d+)"')
PAGE_LINK = re.compile(r'[?&]page=(\d+)')
ALERT = re.compile(r'class="[^"]*(?:alert-danger|help-block)[^"]*"[^>]*>\s*([^<]{1,200})')
_counters = {kind: itertools.count() for kind in ("officials", "clerks", "searchers")}
_ledger_lock = threading.Lock()
SEARCH_WORDS = ("báo cáo", "kế hoạch", "tải thử", "Vĩnh Phúc", "công văn", "quyết định")


MAX_REQUESTS = int(os.environ.get("QLVB_LOAD_MAX_REQUESTS", "200000"))
_sent = itertools.count(1)
_runner: list = []


@events.init.add_listener
def _keep_runner(environment, **_kwargs: object) -> None:
    _runner.append(environment.runner)


@events.request.add_listener
def _bounded(**_kwargs: object) -> None:
    """Stop the whole run once the request budget is spent (besides the user count and the run time)."""
    if next(_sent) == MAX_REQUESTS and _runner:
        _runner[0].quit()


def _ledger(line: str) -> None:
    with _ledger_lock, open(os.environ["QLVB_LOAD_LEDGER"], "a", encoding="utf-8") as f:
        f.write(line + "\n")


class _Official(HttpUser):
    abstract = True
    kind = ""
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        accounts = SEED[self.kind]
        self.email, self.password = accounts[next(_counters[self.kind]) % len(accounts)]
        self.client.headers["Host"] = HOST_HEADER
        token = self._token("/login/", name="login form")
        with self.client.post("/login/", data={"username": self.email, "password": self.password, "csrf_token": token},
                              allow_redirects=False, name="login", catch_response=True) as resp:
            if resp.status_code != 302 or "/login" in resp.headers.get("Location", ""):
                resp.failure(f"login refused for {self.email}")

    def _token(self, path: str, *, name: str) -> str:
        with self.client.get(path, name=name, catch_response=True) as resp:
            found = CSRF.search(resp.text or "")
            if resp.status_code != 200 or not found:
                resp.failure(f"no form at {path}: {resp.status_code}")
                return ""
            return found.group(1)


class Official(_Official):
    """A leader working through the pool: inbox, a task from a random page of it, completion."""

    kind = "officials"
    weight = 6

    @task
    def complete_one(self) -> None:
        # The load route's steps (bench/load.py publishes it), not the incoming documents the clerks register
        # meanwhile: those wait for the leader's assignment with a department, which this user does not choose.
        with self.client.get("/inbox/?tab=todo&process=other", name="inbox", catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"inbox {resp.status_code}")
                return
            pages = [int(p) for p in PAGE_LINK.findall(resp.text)] or [1]
            page_text = resp.text
        page = random.randint(1, max(pages))
        if page > 1:
            page_text = self.client.get(f"/inbox/?tab=todo&process=other&page={page}", name="inbox").text
        tasks = TASK_LINK.findall(page_text)
        if not tasks:
            return
        task_id = random.choice(tasks)
        token = self._token(f"/tasks/{task_id}", name="task page")
        if not token:
            return
        with self.client.post(f"/tasks/{task_id}", data={"decision": "complete", "comment": "Đã xong",
                                                         "csrf_token": token},
                              allow_redirects=False, name="task completion", catch_response=True) as resp:
            if resp.status_code != 302:
                said = ALERT.findall(resp.text or "")
                resp.failure(f"completion of {task_id}: {resp.status_code} {' '.join(said)[:200]}")
            else:
                _ledger(f"done {task_id}")


class Clerk(_Official):
    """A clerk registering incoming documents (vào sổ) one after another."""

    kind = "clerks"
    weight = 2

    def on_start(self) -> None:
        super().on_start()
        self.n = 0

    @task
    def register(self) -> None:
        token = self._token("/documents/incoming/new", name="registration form")
        if not token:
            return
        self.n += 1
        notation = f"{self.n}/TAI-{self.email.split('@')[0]}"
        with self.client.post("/documents/incoming/new", data={
                "doc_type": "cong_van", "number_notation": notation, "issuer_name": "UBND tỉnh Vĩnh Phúc",
                "issue_date": "20/11/2026", "summary": f"Văn bản tải thử {notation} báo cáo kế hoạch",
                "urgency": "thuong", "confidentiality": "thuong", "channel": "paper", "csrf_token": token},
                allow_redirects=False, name="registration", catch_response=True) as resp:
            if resp.status_code != 302 or "/documents/" not in resp.headers.get("Location", ""):
                resp.failure(f"registration {notation}: {resp.status_code}")
            else:
                _ledger(f"registered {notation}")


class Searcher(_Official):
    """A specialist searching the agency's documents by words."""

    kind = "searchers"
    weight = 2

    @task
    def search(self) -> None:
        with self.client.get("/search/", params={"q": random.choice(SEARCH_WORDS)}, name="search",
                             catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"search {resp.status_code}")
