"""Two gunicorn nodes of the app behind Debian's nginx (the deploy/ site), on the session's database."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import Node, Proxy, nginx, start_node, stop

RATE_LIMIT_REDIS = "redis://127.0.0.1:6379/14"
METRICS_TOKEN = "metrics-" + secrets.token_hex(8)
PER_IP_LIMIT = 5


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Cluster:
    proxy: Proxy
    nodes: list[Node]


def node_env(app: Any, work: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QLVB_", "PROMETHEUS_"))}
    env.update({
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "QLVB_INSTANCE_DIR": str(work / "instance"),
        "QLVB_UPLOAD_DIR": app.config["QLVB_UPLOAD_DIR"],
        "QLVB_SIGNING_DIR": app.config["QLVB_SIGNING_DIR"],
        "QLVB_TRUST_ROOTS": app.config["QLVB_TRUST_ROOTS"],
        "QLVB_FAB_UPDATE_PERMS": "0",
        "QLVB_EMBEDDED_JOBS": "0",
        "QLVB_TRUSTED_PROXIES": "1",
        "QLVB_LOG_FORMAT": "json",
        "QLVB_METRICS_TOKEN": METRICS_TOKEN,
        "QLVB_LOGIN_RATE_LIMIT_PER_IP": f"{PER_IP_LIMIT} per minute",
        "QLVB_RATELIMIT_STORAGE_URI": RATE_LIMIT_REDIS,
        **extra,
    })
    return env


@pytest.fixture(scope="module")
def cluster(app: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx (Debian) chưa được cài: make test cài nó")
    if not _redis_up():
        pytest.skip("Redis không chạy trên 127.0.0.1:6379 (bộ đếm giới hạn đăng nhập dùng chung)")
    import redis

    redis.Redis.from_url(RATE_LIMIT_REDIS).flushdb()
    work = tmp_path_factory.mktemp("cluster")
    env = node_env(app, work)
    nodes: list[Node] = []
    try:
        nodes = [start_node("a", work, env), start_node("b", work, env)]
        with nginx(work / "nginx", [n.port for n in nodes],
                   extra="add_header X-Qlvb-Upstream $upstream_addr always;") as proxy:
            yield Cluster(proxy, nodes)
    finally:
        for node in nodes:
            stop(node.proc)
