"""A small cluster on loopback: Debian's nginx in front of gunicorn nodes of the app, and a client that can speak
from any 127.x.y.z address (so nginx sees distinct clients without leaving the machine).

Every process is started by the fixture and stopped by it; ports are free ones picked at start.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from tests.support.web import csrf_token

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"process exited ({proc.returncode}):\n{log.read_text()[-4000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port}:\n{log.read_text()[-4000:]}")


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Client:
    """HTTP/1.1 from ``source`` (a loopback address) to ``port``, for ``host``; keeps cookies like a browser."""

    port: int
    host: str
    source: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60, source_address=(self.source, 0))
        sent = {"Host": self.host, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=sent)
            resp = conn.getresponse()
            data = resp.read()
            for raw in resp.headers.get_all("Set-Cookie") or []:
                jar: SimpleCookie = SimpleCookie()
                jar.load(raw)
                for name, morsel in jar.items():
                    self.cookies[name] = morsel.value
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post_form(self, path: str, data: Mapping[str, str], **kw: Any) -> Response:
        headers = {"Content-Type": "application/x-www-form-urlencoded", **kw.pop("headers", {})}
        return self.request("POST", path, body=urllib.parse.urlencode(data).encode(), headers=headers, **kw)

    def login(self, email: str, password: str, **kw: Any) -> Response:
        page = self.get("/login/", **kw)
        assert page.status == 200, page.text[:500]
        return self.post_form("/login/", {"username": email, "password": password,
                                          "csrf_token": csrf_token(page.text)}, **kw)


@dataclass
class Node:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    metrics_dir: Path

    def log_lines(self) -> list[dict[str, Any]]:
        """The node's JSON log lines (anything else it printed is skipped)."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except ValueError:
                    continue
        return found


def start_node(name: str, work: Path, env: Mapping[str, str], *, workers: int = 2) -> Node:
    port = free_port()
    metrics_dir = work / f"metrics-{name}"
    metrics_dir.mkdir(parents=True, exist_ok=True)
    log = work / f"{name}.log"
    out = log.open("wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", "4", "app:create_app()"],
        cwd=ROOT, env={**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, stdout=out, stderr=subprocess.STDOUT,
        start_new_session=True)
    out.close()
    wait_for_port(port, proc, log)
    return Node(name, port, proc, log, metrics_dir)


def stop(proc: subprocess.Popen[bytes], *, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process on;
{user}
pid {work}/nginx.pid;
error_log {work}/nginx-error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {work}/nginx-access.log;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {site};
}}
"""


@dataclass
class Proxy:
    port: int
    proc: subprocess.Popen[bytes]
    work: Path

    def client(self, host: str, source: str = "127.0.0.1") -> Client:
        return Client(self.port, host, source)


def _replace_block(text: str, name: str, new: str) -> str:
    start, end = text.index(f"# BEGIN {name}"), text.index(f"# END {name}")
    return text[:start] + new + text[end + len(f"# END {name}"):]


def render_site(template: Path, *, listen: int, upstreams: list[int], extra: str = "") -> str:
    """The deploy/ nginx site with this run's ports (and without TLS: loopback tests speak plain HTTP)."""
    text = template.read_text()
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in upstreams)
    text = _replace_block(text, "upstreams", servers.lstrip())
    text = _replace_block(text, "redirect", "")
    return _replace_block(text, "tls", f"listen 127.0.0.1:{listen};\n    {extra}")


@contextmanager
def nginx(work: Path, upstreams: list[int], *, extra: str = "") -> Iterator[Proxy]:
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    site = work / "site.conf"
    site.write_text(render_site(ROOT / "deploy" / "nginx" / "qlvb.conf", listen=port, upstreams=upstreams,
                                extra=extra))
    conf = work / "nginx.conf"
    conf.write_text(NGINX_CONF.format(work=work, site=site, user="user root;" if os.geteuid() == 0 else ""))
    log = work / "nginx-error.log"
    test = subprocess.run([NGINX, "-t", "-p", str(work), "-c", str(conf)], capture_output=True, text=True)
    assert test.returncode == 0, test.stderr
    proc = subprocess.Popen([NGINX, "-p", str(work), "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_port(port, proc, log, timeout=20)
        yield Proxy(port, proc, work)
    finally:
        stop(proc, sig=signal.SIGQUIT)
