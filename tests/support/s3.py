"""A real S3-API server for tests and benchmarks: moto's standalone server on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCESS_KEY = "qlvb-test-access"
SECRET_KEY = "qlvb-test-secret-0123456789"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION

    def client(self) -> Any:  # a boto3 client
        import boto3

        return boto3.session.Session().client("s3", endpoint_url=self.endpoint, region_name=self.region,
                                              aws_access_key_id=self.access_key,
                                              aws_secret_access_key=self.secret_key)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_moto(log_dir: Path, *, timeout: float = 60.0) -> Iterator[S3Server]:
    """Start ``python -m moto.server`` on 127.0.0.1, wait until it answers, stop it afterwards."""
    port = _free_port()
    log = (log_dir / "moto.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"moto server exited with {proc.returncode}; see {log_dir / 'moto.log'}")
            try:
                with urllib.request.urlopen(endpoint + "/", timeout=2):  # noqa: S310  (our loopback server)
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not answer on {endpoint} within {timeout} s") from None
                time.sleep(0.2)
        yield S3Server(endpoint)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
