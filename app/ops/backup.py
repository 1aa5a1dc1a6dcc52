"""Back up and restore the database plus stored files, with a manifest of sha256 checksums.

SQLite: the sqlite3 online backup API (a consistent copy while the app runs). PostgreSQL: ``pg_dump -Fc``
and ``pg_restore`` of the installed postgresql-client, whose major version must match the server's.
A restore first verifies every checksum and refuses a backup that does not match, before touching anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from app.core import clock
from app.core.errors import RefusedError, ServiceUnavailableError, ValidationError
from app.core.files import private_dir, private_tree

MANIFEST = "manifest.json"
FORMAT = "qlvb-backup/1"


class BackupCorruptedError(RefusedError):
    code = "backup_corrupted"


@dataclass(frozen=True)
class BackupResult:
    directory: Path
    database_file: str
    files: int
    total_bytes: int


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _walk(root: Path) -> Iterator[Path]:
    if root.exists():
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                yield path


def _pg_env(url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    args = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    return args, env


def _pg_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise ServiceUnavailableError(f"Không tìm thấy chương trình {name} (gói postgresql-client).")
    return tool


def _check_pg_versions(url: str) -> None:
    import psycopg

    # Arguments come from configuration, never from a request; no shell is involved.
    out = subprocess.run([_pg_tool("pg_dump"), "--version"], capture_output=True, text=True,  # noqa: S603
                         check=True).stdout
    client_major = int(out.split()[-1].split(".")[0])
    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
        server_major = int(conn.info.server_version) // 10000
    if client_major != server_major:
        raise ServiceUnavailableError(f"pg_dump phiên bản {client_major} không khớp máy chủ PostgreSQL {server_major}; "
                                      "hãy cài postgresql-client cùng phiên bản.")


def backup(out_dir: Path, *, database_url: str, upload_dir: Path,
           alembic_heads: list[str] | None = None) -> BackupResult:
    """Write ``out_dir`` (must not exist or be empty): database dump, files/, manifest.json."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ValidationError(f"Thư mục {out_dir} đã có dữ liệu; hãy chọn thư mục mới cho bản sao lưu.")
    private_dir(out_dir)  # a backup is the whole province's documents: owner-only
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        db_name = "database.sqlite3"
        src = sqlite3.connect(url.database)
        dst = sqlite3.connect(out_dir / db_name)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    elif url.get_backend_name() == "postgresql":
        _check_pg_versions(database_url)
        db_name = "database.pgdump"
        args, env = _pg_env(database_url)
        done = subprocess.run([_pg_tool("pg_dump"), *args, "-Fc", "--no-owner", "--no-privileges",  # noqa: S603
                               "-f", str(out_dir / db_name), url.database or ""], env=env, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise ServiceUnavailableError("pg_dump thất bại.", details=done.stderr.strip().splitlines()[-5:])
    else:
        raise ValidationError(f"Chưa hỗ trợ sao lưu cơ sở dữ liệu loại {url.get_backend_name()}.")
    files_root = out_dir / "files"
    count = 0
    for path in _walk(Path(upload_dir)):
        rel = path.relative_to(upload_dir)
        target = files_root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        count += 1
    entries = {}
    total = 0
    for path in _walk(out_dir):
        if path.name == MANIFEST and path.parent == out_dir:
            continue
        rel = path.relative_to(out_dir).as_posix()
        size = path.stat().st_size
        total += size
        entries[rel] = {"sha256": _sha256(path), "size": size}
    manifest = {"format": FORMAT, "created_at": clock.now().isoformat(), "database": {
        "backend": url.get_backend_name(), "file": db_name}, "alembic_heads": alembic_heads or [],
        "files": entries}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True))
    private_tree(out_dir)
    return BackupResult(out_dir, db_name, count, total)


def verify(backup_dir: Path) -> dict[str, object]:
    """Every file listed is present with its checksum, and nothing unlisted hides in the backup."""
    backup_dir = Path(backup_dir)
    path = backup_dir / MANIFEST
    if not path.exists():
        raise BackupCorruptedError(f"Không phải bản sao lưu QLVB: thiếu {MANIFEST} trong {backup_dir}.")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackupCorruptedError(f"Tệp {MANIFEST} bị hỏng, không đọc được.") from exc
    if manifest.get("format") != FORMAT:
        raise BackupCorruptedError(f"Định dạng bản sao lưu không được hỗ trợ: {manifest.get('format')!r}.")
    problems = []
    listed = manifest.get("files", {})
    for rel, meta in sorted(listed.items()):
        target = (backup_dir / rel).resolve()
        if backup_dir.resolve() not in target.parents:
            problems.append(f"{rel}: đường dẫn nằm ngoài thư mục sao lưu")
        elif not target.exists():
            problems.append(f"{rel}: thiếu tệp")
        elif _sha256(target) != meta.get("sha256"):
            problems.append(f"{rel}: sai mã kiểm tra SHA-256 (tệp đã bị thay đổi hoặc hỏng)")
    for extra in _walk(backup_dir):
        rel = extra.relative_to(backup_dir).as_posix()
        if rel != MANIFEST and rel not in listed:
            problems.append(f"{rel}: tệp không có trong danh mục")
    if problems:
        raise BackupCorruptedError("Bản sao lưu bị hỏng hoặc đã bị sửa đổi; không khôi phục.", details=problems)
    return manifest


def restore(backup_dir: Path, *, database_url: str, upload_dir: Path, force: bool = False) -> dict[str, object]:
    """Verify, then load the database and the files. Refuses a non-empty target unless ``force``."""
    backup_dir = Path(backup_dir)
    manifest = verify(backup_dir)
    db_meta = manifest["database"]
    url = make_url(database_url)
    if db_meta["backend"] != url.get_backend_name():
        raise ValidationError(f"Bản sao lưu là {db_meta['backend']}, cơ sở dữ liệu đích là {url.get_backend_name()}.")
    dump = backup_dir / db_meta["file"]
    upload_dir = Path(upload_dir)
    if not force and _has_tables(database_url):
        raise ValidationError("Cơ sở dữ liệu đích đã có dữ liệu; chỉ khôi phục vào cơ sở dữ liệu mới "
                              "(hoặc dùng --force khi chắc chắn ghi đè).")
    if not force and any(_walk(upload_dir)):
        raise ValidationError(f"Thư mục tệp {upload_dir} đã có tệp; chỉ khôi phục vào thư mục trống.")
    if url.get_backend_name() == "sqlite":
        src = sqlite3.connect(dump)
        dst = sqlite3.connect(url.database)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    else:
        _check_pg_versions(database_url)
        args, env = _pg_env(database_url)
        cmd = [_pg_tool("pg_restore"), *args, "--no-owner", "--no-privileges", "--exit-on-error",
               "-d", url.database or ""]
        if force:
            cmd[1:1] = ["--clean", "--if-exists"]
        result = subprocess.run([*cmd, str(dump)], env=env, capture_output=True, text=True)  # noqa: S603
        if result.returncode != 0:
            raise ServiceUnavailableError("pg_restore thất bại.", details=result.stderr.strip().splitlines()[-5:])
    files_root = backup_dir / "files"
    for path in _walk(files_root):
        target = upload_dir / path.relative_to(files_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    private_tree(upload_dir)
    return manifest


def _has_tables(database_url: str) -> bool:
    from sqlalchemy import create_engine, inspect

    engine = create_engine(database_url)
    try:
        return bool(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def backup_age(manifest: dict[str, object]) -> dt.timedelta:
    return clock.now() - dt.datetime.fromisoformat(str(manifest["created_at"]))
