"""The restore drill (`flask qlvb restore --from DIR --verify`): restore a backup into a scratch database, a scratch
store and a scratch signing folder, then compare every table with the fingerprints the backup recorded of its own
snapshot, every stored file with its SHA-256, and the signing files with their count. Nothing live is touched;
the scratch copies are removed afterwards, whatever the outcome.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app.core.errors import RefusedError
from app.documents.storage import DatabaseStorage, LocalStorage, Storage

from .backup import restore, verify
from .fingerprint import differences, table_fingerprints
from .storage import check_blobs

log = logging.getLogger("qlvb.backup")


class DrillFailedError(RefusedError):
    code = "restore_drill_failed"


@dataclass
class DrillResult:
    tables: int = 0
    rows: int = 0
    blobs: int = 0
    signing_files: int = 0
    problems: list[str] = field(default_factory=list)


@contextmanager
def scratch_database(database_url: str, work: Path) -> Iterator[str]:
    """An empty database of the backup's kind: a file in ``work`` for SQLite, a new database on the same
    PostgreSQL server (dropped afterwards) otherwise."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{work / 'drill.sqlite3'}"
        return
    name = f"qlvb_drill_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def drill(backup_dir: Path, *, database_url: str, signing_key: str | None = None) -> DrillResult:
    """Restore ``backup_dir`` into scratch copies next to nothing live and compare; raise DrillFailedError listing
    each difference. ``database_url`` names the server (and kind) the scratch database is made on."""
    manifest = verify(Path(backup_dir))
    if "tables" not in manifest:
        raise DrillFailedError("Bản sao lưu này được lập trước khi có dấu kiểm tra từng bảng; hãy lập bản sao lưu mới "
                               "rồi diễn tập khôi phục.")
    result = DrillResult(tables=len(manifest["tables"]),
                         rows=sum(int(t["rows"]) for t in manifest["tables"].values()))
    in_dump = manifest.get("storage", {}).get("kind") == "database"
    work = Path(tempfile.mkdtemp(prefix="qlvb-drill-"))
    try:
        with scratch_database(database_url, work) as scratch_url:
            files, signing = work / "files", work / "signing"

            def store_for(session: Session) -> Storage:
                return DatabaseStorage(session) if in_dump else LocalStorage(files)

            restore(Path(backup_dir), database_url=scratch_url, store_factory=store_for, signing_dir=signing,
                    signing_key=signing_key)
            engine = create_engine(scratch_url, poolclass=NullPool)
            try:
                with engine.connect() as conn:
                    result.problems += differences(manifest["tables"], table_fingerprints(conn))
                with Session(engine) as session:
                    checked = check_blobs(session, store_for(session))
                    result.blobs = checked.blobs
                    result.problems += checked.problems
            finally:
                engine.dispose()
            result.signing_files = sum(1 for p in signing.rglob("*") if p.is_file()) if signing.exists() else 0
            if result.signing_files != int(manifest.get("signing_files", 0)):
                result.problems.append(f"thư mục khóa ký số: khôi phục {result.signing_files} tệp, bản sao lưu ghi "
                                       f"{manifest.get('signing_files', 0)} tệp")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if result.problems:
        for problem in result.problems:
            log.error("restore drill of %s: %s", backup_dir, problem)
        raise DrillFailedError(f"Diễn tập khôi phục thất bại: {len(result.problems)} khác biệt giữa bản khôi phục và "
                               "bản sao lưu.", details=result.problems[:100],
                               log=f"restore drill of {backup_dir}: {len(result.problems)} differences")
    log.info("restore drill of %s: %s tables, %s rows, %s files, %s signing files equal", backup_dir, result.tables,
             result.rows, result.blobs, result.signing_files)
    return result
