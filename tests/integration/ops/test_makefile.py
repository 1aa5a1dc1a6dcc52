"""`make run` installs what serves, `make test` what tests (read from what make would run, without running it)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TEST_ONLY = ("chromium", "slapd", "ldap-utils", "softhsm2", "nginx", "pgbouncer", "poppler-utils", "gcc",
             "libldap-dev", "libsasl2-dev")
RUNTIME = ("fonts-liberation2", "libpango-1.0-0", "libharfbuzz-subset0", "postgresql-client")


def _plan(*targets: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "QLVB_AUTH"}
    result = subprocess.run(["make", "-n", "-B", *targets], cwd=ROOT, env={**clean, **env}, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _packages(plan: str) -> set[str]:
    return {p for line in re.findall(r"for p in ([^;]+);", plan) for p in line.split()}


def _pip_targets(plan: str) -> list[str]:
    return re.findall(r"pip install -q -c requirements.lock -e '([^']+)'", plan)


def test_make_run_installs_runtime_packages_only() -> None:
    plan = _plan("venv-run", "init")
    packages = _packages(plan)
    assert set(RUNTIME) <= packages
    assert not packages & set(TEST_ONLY), packages & set(TEST_ONLY)
    assert _pip_targets(plan) == ["."]  # no [test], no [ldap]
    assert "flask qlvb init" in plan
    run = _plan("run")
    assert not _packages(run) & set(TEST_ONLY) and "[test" not in run and "pytest" not in run


def test_ldap_login_brings_only_what_builds_python_ldap() -> None:
    plan = _plan("venv-run", QLVB_AUTH="ldap_then_db")
    packages = _packages(plan)
    assert {"gcc", "libldap-dev", "libsasl2-dev"} <= packages
    assert not packages & {"chromium", "slapd", "nginx", "softhsm2"}
    assert _pip_targets(plan) == [".[ldap]"]


def test_make_test_adds_the_test_tools() -> None:
    plan = _plan("venv")
    packages = _packages(plan)
    assert set(RUNTIME) | set(TEST_ONLY) <= packages
    assert ".[test,ldap]" in _pip_targets(plan)
    assert "pytest" in _plan("test") and "lint-imports" in _plan("test")
