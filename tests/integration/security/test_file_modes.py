"""What the app writes is readable by its own account only: the SQLite file, the secret key, the upload and
signing folders and what is stored in them, backups (0600 files, 0700 folders), even under a lax umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.files import private_tree
from tests.support.db import is_postgres

ROOT = Path(__file__).resolve().parents[3]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def lax_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


CHILD = """
import os, sys
os.umask(0o022)  # an administrator's lax shell
from app import create_app
from app.extensions import db
from app.documents.storage import LocalStorage
app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": sys.argv[1], "QLVB_UPLOAD_DIR": sys.argv[2],
                  "FAB_UPDATE_PERMS": False, "QLVB_EMBEDDED_JOBS": False})
with app.app_context():
    db.session.execute(db.text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
    db.session.execute(db.text("INSERT INTO t VALUES (1)"))
    db.session.commit()
    print(LocalStorage(sys.argv[2]).put(b"%PDF-1.4 van ban"))
"""


def test_a_fresh_installation_is_owner_only(tmp_path):
    # A process of its own: the app factory sets the umask and Flask-AppBuilder is one per process.
    instance, signing, files = tmp_path / "instance", tmp_path / "signing", tmp_path / "files"
    files.mkdir(mode=0o755)
    os.chmod(files, 0o755)  # noqa: S103 (left world-readable by an older version: repaired)
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL", "QLVB_UMASK")}
    env.update({"QLVB_INSTANCE_DIR": str(instance), "QLVB_SIGNING_DIR": str(signing), "PYTHONPATH": str(ROOT)})
    done = subprocess.run([sys.executable, "-c", CHILD, f"sqlite:///{instance / 'qlvb.sqlite3'}", str(files)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    key = done.stdout.strip().splitlines()[-1]
    assert _mode(instance) == 0o700
    assert _mode(instance / "secret_key") == 0o600
    assert _mode(instance / "qlvb.sqlite3") == 0o600
    for extra in ("qlvb.sqlite3-wal", "qlvb.sqlite3-shm"):
        if (instance / extra).exists():
            assert _mode(instance / extra) == 0o600, extra
    assert _mode(files) == 0o700 and _mode(signing) == 0o700
    stored = files / key
    assert _mode(stored) == 0o600
    parent = stored.parent
    while parent != files:
        assert _mode(parent) == 0o700, parent
        parent = parent.parent


def test_backups_are_owner_only(app, tmp_path, lax_umask):
    from app.ops.backup import backup

    if is_postgres():
        pytest.skip("pg_dump of the session database is exercised by test_backup.py; modes are the same code")
    from app.documents.storage import default_storage

    signing = tmp_path / "signing"
    (signing / "stn").mkdir(parents=True)
    (signing / "stn" / "seal.png").write_bytes(b"x")
    os.chmod(signing / "stn" / "seal.png", 0o644)
    out = tmp_path / "backup"
    backup(out, database_url=app.config["SQLALCHEMY_DATABASE_URI"], store=default_storage(), signing_dir=signing)
    assert (out / "signing" / "stn" / "seal.png").exists()
    modes = {p.relative_to(out).as_posix(): _mode(p) for p in [out, *out.rglob("*")]}
    assert modes["."] == 0o700
    assert all(m == (0o700 if (out / p).is_dir() else 0o600) for p, m in modes.items()), modes


def test_private_tree_repairs_what_was_left_open(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f").write_text("x")
    os.chmod(tmp_path / "a", 0o755)  # noqa: S103 (what the repair must undo)
    os.chmod(tmp_path / "a" / "b" / "f", 0o644)
    private_tree(tmp_path / "a")
    assert _mode(tmp_path / "a") == 0o700 and _mode(tmp_path / "a" / "b") == 0o700
    assert _mode(tmp_path / "a" / "b" / "f") == 0o600
