"""A separate QLVB deployment for command tests: its own database, folders and S3 prefix, in a child process.

The session's app shares one database with every test; `storage check` and `backup` look at a whole deployment,
so they are tested on deployments of their own. One child process runs a list of steps against one app (the
`flask qlvb …` commands through Flask's CLI runner, plus a few ways to seed or damage data) and prints a JSON
result per step: ``python -m tests.support.deployment '<spec>'``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[2]
MARK = "QLVB-DEPLOYMENT-RESULT "


@dataclass
class Deployment:
    """Where a deployment lives; ``run(steps)`` starts a child process with its configuration."""

    root: Path
    database_url: str
    config: dict[str, Any]

    @property
    def upload_dir(self) -> Path:
        return Path(self.config["QLVB_UPLOAD_DIR"])

    @property
    def signing_dir(self) -> Path:
        return Path(self.config["QLVB_SIGNING_DIR"])

    def run(self, steps: list[dict[str, Any]], *, timeout: float = 600) -> list[dict[str, Any]]:
        spec = {"config": {**self.config, "SQLALCHEMY_DATABASE_URI": self.database_url}, "steps": steps}
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QLVB_", "DATABASE_URL"))}
        env["QLVB_EMBEDDED_JOBS"] = "0"
        done = subprocess.run([sys.executable, "-m", "tests.support.deployment", json.dumps(spec)], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=timeout)
        lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
        assert done.returncode == 0 and lines, f"child failed ({done.returncode}):\n{done.stdout[-3000:]}\n" \
                                               f"{done.stderr[-6000:]}"
        return list(json.loads(lines[-1][len(MARK):]))


@contextmanager
def new_deployment(root: Path, *, s3: Any = None) -> Iterator[Deployment]:
    """A deployment under ``root`` with an empty database (SQLite, or a new PostgreSQL database when the tests
    run on one), empty folders, and its own prefix in the S3 test bucket when ``s3`` (a running server) is given."""
    root.mkdir(parents=True, exist_ok=True)
    config = {
        "SECRET_KEY": "deployment-" + secrets.token_hex(20),
        "QLVB_INSTANCE_DIR": str(root / "instance"),
        "QLVB_UPLOAD_DIR": str(root / "files"),
        "QLVB_SIGNING_DIR": str(root / "signing"),
        "QLVB_TRUST_ROOTS": str(root / "trust"),
        "QLVB_STORAGE": "local",
        "QLVB_EMBEDDED_JOBS": "0",
        "FAB_UPDATE_PERMS": False,  # `init` adds the permissions once; each later start need not check them again
    }
    if s3 is not None:
        config.update(QLVB_S3_BUCKET="qlvb-test", QLVB_S3_ENDPOINT=s3.endpoint, QLVB_S3_REGION=s3.region,
                      QLVB_S3_PREFIX=f"dep{secrets.token_hex(4)}/", QLVB_S3_ACCESS_KEY=s3.access_key,
                      QLVB_S3_SECRET_KEY=s3.secret_key)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield Deployment(root, f"sqlite:///{root / 'qlvb.sqlite3'}", config)
        return
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    name = f"qlvb_dep_{secrets.token_hex(4)}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Deployment(root, f"postgresql+psycopg://{plain.split('://', 1)[1].rsplit('/', 1)[0]}/{name}", config)
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the child ---------------------------------------------------------------------------------------------------

def _seed(clerk_email: str) -> dict[str, Any]:
    """An incoming document with two files (one of several chunks) and an exchange message with a file."""
    from app.core import clock
    from app.documents import services as ds
    from app.documents.attachments import UploadInfo
    from app.exchange import services as exchange
    from app.exchange.info import FileInput
    from app.extensions import db
    from app.tenancy.accounts import create_staff_account
    from app.workflow.info import ActorRef

    clerk = create_staff_account(agency_code="isotttt", full_name="Trần Thị Văn Thư", email=clerk_email,
                                 roles=["clerk"], password="Pw@" + secrets.token_hex(8), department_code="vp")
    colleague = create_staff_account(agency_code="isotttt", full_name="Lê Văn Đồng Nghiệp",
                                     email="dn." + clerk_email, roles=["specialist"],
                                     password="Pw@" + secrets.token_hex(8), department_code="vp")
    db.session.commit()
    actor = ActorRef(user_id=clerk.user_id, agency_id=clerk.agency_id, roles=frozenset({"clerk"}),
                     department_id=clerk.department_id)
    line = "Báo cáo kết quả triển khai phần mềm quản lý văn bản năm 2026.\n".encode()
    big = (line * (3 * 1024 * 1024 // len(line)))[: 2 * 1024 * 1024 + 12345]
    info = ds.register_incoming(clerk.agency_id, actor=actor, data={
        "doc_type": "cong_van", "number_notation": f"{secrets.randbelow(9000) + 1000}/UBND-VX",
        "issuer_name": "Ủy ban nhân dân tỉnh Vĩnh Phúc", "issue_date": clock.today().isoformat(),
        "summary": "V/v sao lưu dữ liệu", "signer_name": "Nguyễn Văn Bình", "signer_position": "Phó Chủ tịch",
        "pages": 2, "urgency": "thuong", "channel": "electronic", "confidentiality": "thuong"},
        files=[UploadInfo("Báo cáo.txt", big), UploadInfo("Phụ lục.txt", "Phụ lục số liệu".encode())])
    exchange.start_thread(actor, title="Gửi số liệu", body="Anh xem giúp", participant_user_ids=[colleague.user_id],
                          files=[FileInput("so-lieu.txt", "Bảng số liệu quý IV".encode())])
    db.session.commit()
    from app.ops.storage import referenced_keys

    return {"document_id": info.id, "keys": list(referenced_keys(db.session))}


def _damage(kind: str, key: str, how: str) -> None:
    """Delete a blob, or change its bytes behind the store's back."""
    from sqlalchemy import update

    from app.documents.models import BlobChunk
    from app.documents.storage import build_storage, digest_of
    from app.extensions import db

    store: Any = build_storage(kind)
    if how == "delete":
        store.delete(key)
    elif kind == "local":
        (store.root / key).write_bytes(b"hong " + (store.root / key).read_bytes()[5:])
    elif kind == "database":
        db.session.execute(update(BlobChunk).where(BlobChunk.sha256 == digest_of(key), BlobChunk.seq == 0)
                           .values(data=b"hong"))
    else:
        store.client.put_object(Bucket=store.bucket, Key=store.prefix + key, Body=b"hong")
    db.session.commit()


def _step(app: Any, step: dict[str, Any]) -> Any:
    from app.core import clock
    from app.extensions import db

    if "init" in step:
        from app.cli.main import run_init

        run_init()
        return True
    if "config" in step:
        app.config.update(step["config"])
        return True
    if "seed" in step:
        return _seed(step["seed"])
    if "cli" in step:
        result = app.test_cli_runner().invoke(args=["qlvb", *step["cli"]])
        db.session.remove()
        return {"code": result.exit_code, "output": result.output}
    if "damage" in step:
        kind, key, how = step["damage"]
        _damage(kind, key, how)
        return True
    if "orphan" in step:  # a blob no row names, as a rolled-back upload leaves it
        from app.documents.storage import build_storage

        key = build_storage().put(f"mồ côi {secrets.token_hex(8)}".encode())
        db.session.commit()
        return key
    if "freeze_hours" in step:
        hours = step["freeze_hours"]
        clock.freeze(None if hours is None else clock.now() + dt.timedelta(hours=hours))
        return True
    if "keys" in step:
        from app.documents.storage import build_storage

        return sorted(build_storage(step["keys"]).list_keys())
    raise ValueError(f"unknown step {step}")


def main() -> None:
    spec = json.loads(sys.argv[1])
    from app import create_app

    app = create_app(spec["config"])
    out = []
    with app.app_context():
        for step in spec["steps"]:
            out.append(_step(app, step))
    print(MARK + json.dumps(out, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
