"""Answer time of a wrong login for a known account, an unknown name and a revoked account (SQLite, in-process).

Prints the median of each and the ratios unknown/known and revoked/known: near 1.0 means the answer time does not
tell an attacker which names exist (the issue measured 6–9 ms against 204–222 ms before the dummy hash).

    .venv/bin/python bench/login_timing.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    from app import create_app
    from app.cli.main import run_init
    from app.extensions import db
    from app.tenancy.accounts import create_staff_account
    from tests.support.web import HostClient

    tmp = Path(tempfile.mkdtemp(prefix="qlvb-bench-login-"))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'b.sqlite3'}",
                      "SECRET_KEY": secrets.token_hex(32), "QLVB_INSTANCE_DIR": str(tmp / "instance"),
                      "QLVB_UPLOAD_DIR": str(tmp / "files"), "QLVB_EMBEDDED_JOBS": False,
                      "QLVB_PASSWORD_MAX_FAILURES": 100000, "QLVB_LOGIN_ADDRESS_MAX_FAILURES": 100000,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        run_init()
        known = create_staff_account(agency_code="isotttt", full_name="Nguyễn Văn Đo", email="do@bench.vn",
                                     roles=["clerk"], password="Pw@" + secrets.token_hex(8))
        gone = create_staff_account(agency_code="isotttt", full_name="Trần Thị Cũ", email="cu@bench.vn",
                                    roles=["clerk"], password="Pw@" + secrets.token_hex(8))
        gone.active = False
        gone.user.active = False
        db.session.commit()
        del known
    c = HostClient(app, "isotttt.localhost")
    times: dict[str, list[float]] = {"known": [], "unknown": [], "revoked": []}
    names = {"known": "do@bench.vn", "unknown": "khong-co@bench.vn", "revoked": "cu@bench.vn"}
    for i in range(args.rounds):
        for kind, name in names.items():
            start = time.perf_counter()
            c.login(name, f"Sai-{i}")
            times[kind].append(time.perf_counter() - start)
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:8s} median {v:7.1f} ms")
    print(f"ratio unknown/known {med['unknown'] / med['known']:.2f}")
    print(f"ratio revoked/known {med['revoked'] / med['known']:.2f}")


if __name__ == "__main__":
    main()
