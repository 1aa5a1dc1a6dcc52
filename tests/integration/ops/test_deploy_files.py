"""The deploy/ files as shipped: systemd units verify; the example environment starts a production node that
talks to PostgreSQL through pgbouncer in transaction pooling."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import free_port, stop, wait_for_port
from tests.support.db import is_postgres

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
UNITS = ("qlvb-web.service", "qlvb-worker.service", "qlvb-beat.service")


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze không có trên máy này")
def test_systemd_units_verify(tmp_path: Path) -> None:
    for unit in UNITS:
        text = (DEPLOY / "systemd" / unit).read_text()
        assert "EnvironmentFile=/etc/qlvb/qlvb.env" in text and "/opt/qlvb/.venv/bin/" in text
        # Installed paths point at this checkout so the verifier can check that every command exists.
        text = text.replace("/opt/qlvb", str(ROOT)).replace("/etc/qlvb/qlvb.env", str(DEPLOY / "qlvb.env.example"))
        (tmp_path / unit).write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", *(str(tmp_path / u) for u in UNITS)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "qlvb-web.service" not in result.stderr, result.stderr  # no warning about our units either


def test_example_environment_names_only_documented_keys() -> None:
    readme = (ROOT / "README.md").read_text() + (DEPLOY / "README.md").read_text()
    for key in read_env_file(DEPLOY / "qlvb.env.example"):
        assert f"`{key}`" in readme, key


PGBOUNCER_INI = """\
[databases]
* = host=127.0.0.1 port={pg_port} user={user}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
; "any" logs in to PostgreSQL as the user named above (the test server trusts loopback)
pool_mode = transaction
default_pool_size = 3
max_client_conn = 100
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
logfile = {work}/pgbouncer.log
pidfile =
"""

NODE_SCRIPT = textwrap.dedent("""
    import json, sys
    from concurrent.futures import ThreadPoolExecutor
    from app import create_app
    app = create_app()
    client = app.test_client()
    failures = []
    def ready(_):
        resp = client.get("/readyz", base_url="http://10.0.0.1")
        if resp.status_code != 200:
            failures.append(resp.get_json())
        return resp.status_code
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(ready, range(40)))
    with app.app_context():
        from app.ops.checks import migrations, agency_processes
        checks = [migrations().ok, agency_processes().ok]
    print(json.dumps({"codes": codes, "checks": checks, "failures": failures[:2],
                      "connect_args": app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("connect_args")}))
""")


@pytest.mark.skipif(not is_postgres(), reason="pgbouncer sits in front of PostgreSQL")
@pytest.mark.skipif(shutil.which("pgbouncer") is None and not Path("/usr/sbin/pgbouncer").exists(),
                    reason="pgbouncer (Debian) chưa được cài: make test cài nó")
def test_example_environment_serves_through_pgbouncer_transaction_pooling(app: Any, tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    port = free_port()
    # pgbouncer drops root for nobody: its folder must be reachable by nobody (pytest's tmp_path is not).
    holder = tempfile.TemporaryDirectory(prefix="qlvb-pgbouncer-")
    work = Path(holder.name)
    work.chmod(0o755)
    (work / "pgbouncer.log").touch(mode=0o666)
    (work / "pgbouncer.log").chmod(0o666)
    ini = work / "pgbouncer.ini"
    ini.write_text(PGBOUNCER_INI.format(pg_port=url.port or 5432, port=port, work=work,
                                       user=url.username or "postgres"))
    command = [shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", str(ini)]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "nobody"]
    bouncer = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, bouncer, work / "pgbouncer.log", timeout=20)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QLVB_", "DATABASE_URL", "SECRET_KEY"))}
        env.update(read_env_file(DEPLOY / "qlvb.env.example"))
        env.update({
            "DATABASE_URL": url.set(port=port).render_as_string(hide_password=False),
            "QLVB_CELERY_BROKER_URL": "memory://",
            "QLVB_RATELIMIT_STORAGE_URI": "memory://",
            "QLVB_INSTANCE_DIR": str(tmp_path / "instance"), "QLVB_UPLOAD_DIR": str(tmp_path / "files"),
            "QLVB_SIGNING_DIR": str(tmp_path / "signing"), "QLVB_TRUST_ROOTS": str(tmp_path / "trust"),
            "QLVB_FAB_UPDATE_PERMS": "0", "QLVB_LOG_FORMAT": "text",
        })
        assert env["QLVB_ENV"] == "production" and env["QLVB_DB_PGBOUNCER"] == "1"
        result = subprocess.run([sys.executable, "-c", NODE_SCRIPT], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=180)
        assert result.returncode == 0, result.stderr[-4000:]
        report = json.loads(result.stdout.strip().splitlines()[-1])
        assert report["connect_args"] == {"prepare_threshold": None}
        # The same statements 40 times, 8 at once, over 3 server connections: no "prepared statement … does not exist".
        assert report["codes"] == [200] * 40, json.dumps(report["failures"], ensure_ascii=False)[:3000]
        assert report["checks"] == [True, True]
        assert "prepared statement" not in result.stderr
    finally:
        stop(bouncer, sig=signal.SIGINT)
        holder.cleanup()
