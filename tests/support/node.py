"""A second app node for tests: the same app in a child process, served by werkzeug on a free loopback port.

``running_node(config)`` starts ``python -m tests.support.node '<config>' PORT`` and waits until it answers;
with the session app's database, secret key and store settings it is another node of the same deployment.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_node(config: dict[str, Any], log_path: Path, *, timeout: float = 120.0) -> Iterator[str]:
    """Yield the node's base URL (``http://127.0.0.1:PORT``); send a ``Host`` header to pick the agency."""
    port = _free_port()
    log = log_path.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.node", json.dumps(config), str(port)], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"node exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(base + "/login/", timeout=5):  # noqa: S310  (our loopback node)
                    break
            except urllib.error.HTTPError:
                break  # it answers
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"node did not answer on {base} within {timeout} s") from None
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def main() -> None:
    from werkzeug.serving import make_server

    from app import create_app

    config = json.loads(sys.argv[1])
    app = create_app(config)
    make_server("127.0.0.1", int(sys.argv[2]), app, threaded=True).serve_forever()


if __name__ == "__main__":
    main()
