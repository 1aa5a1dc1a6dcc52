"""Every benchmark starts: its imports resolve from its own folder (a bench/http.py once hid the standard
library's ``http`` from all of them) and its options parse. A benchmark's figures are not checked here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"
SCRIPTS = sorted(p for p in BENCH.glob("*.py") if p.name not in {"locustfile.py", "corpus.py"})


def test_the_benchmarks_are_found() -> None:
    assert {"load.py", "http_routes.py", "workflow.py", "exchange.py"} <= {p.name for p in SCRIPTS}
    assert not (BENCH / "http.py").exists()


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_each_benchmark_prints_its_usage(script: Path) -> None:
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=BENCH.parent, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout
