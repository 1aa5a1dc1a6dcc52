"""Back up and restore the database, every stored file a row names, and the signing folder, with a manifest of
SHA-256 checksums.

The database copy and the list of files come from the same snapshot: SQLite's online backup API, then the list is
read from the copy itself; PostgreSQL: a REPEATABLE READ transaction exports its snapshot, ``pg_dump -Fc
--snapshot`` dumps exactly that, and the list is read in it. So every row in the dump has its file in the backup,
whatever the app writes meanwhile. A file that a row names but the store lacks (or whose bytes do not hash to its
key) fails the backup, and nothing that looks like a backup is left behind. With the database store the files are
in the dump; their presence and size are still checked.

A restore first verifies every checksum and refuses a backup that does not match, before touching anything; then it
loads the database, puts the files into the configured store (or, for a database-store backup restored onto another
store, copies them out of the restored tables) and the signing folder back in place.

The signing folder holds the agencies' keys and the leaders' signature images: with ``QLVB_BACKUP_KEY`` set it is
sealed (app/ops/sealed.py, AES-256-GCM) and a restore needs the same key; without it, it is copied as it is (the
.p12 files stay under their own passphrases, which are never in a backup).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app.core import clock
from app.core import sqlite as sqlite_setup
from app.core.errors import DomainError, RefusedError, ServiceUnavailableError, ValidationError
from app.core.files import private_tree
from app.documents.storage import (
    BlobMissingError,
    DatabaseStorage,
    Storage,
    digest_of,
    is_key,
    read_pieces,
)

from .fingerprint import table_fingerprints
from .sealed import open_sealed, seal_folder, unpack
from .storage import migrate_blobs, referenced_blobs

log = logging.getLogger("qlvb.backup")

MANIFEST = "manifest.json"
FORMAT = "qlvb-backup/2"
OLD_FORMAT = "qlvb-backup/1"  # files/ was a plain copy of QLVB_UPLOAD_DIR, no signing folder
MAX_LISTED = 100
SEALED = "signing.sealed"  # the signing folder, sealed with QLVB_BACKUP_KEY


class BackupCorruptedError(RefusedError):
    code = "backup_corrupted"


class BackupIncompleteError(DomainError):
    """Files the database names are missing or damaged: such a backup would not restore."""

    http_status = 503
    code = "backup_incomplete"
    log_level = logging.ERROR


@dataclass(frozen=True)
class BackupResult:
    directory: Path
    database_file: str
    files: int
    signing_files: int
    total_bytes: int
    signing_sealed: bool = False


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in read_pieces(fh):
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


def _engine(url: str) -> Any:
    engine = create_engine(url, poolclass=NullPool)
    sqlite_setup.configure(engine)
    return engine


def _read_only_sqlite(path: Path) -> Any:
    """The backup's own copy, opened read-only: no WAL files appear next to it, its bytes stay as dumped."""
    return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", poolclass=NullPool)


@contextmanager
def _dumped(database_url: str, out_dir: Path) -> Iterator[tuple[str, Session]]:
    """Write the database copy into ``out_dir``; yield its file name and a session that sees exactly that copy."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        db_name = "database.sqlite3"
        src = sqlite3.connect(url.database)
        dst = sqlite3.connect(out_dir / db_name)
        try:
            src.backup(dst)
            # The copy inherits WAL mode, and a WAL database grows -wal/-shm files whenever it is opened: make it one
            # self-contained file that reading never changes.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
            src.close()
        engine = _read_only_sqlite(out_dir / db_name)
        try:
            with Session(engine) as session:
                yield db_name, session
        finally:
            engine.dispose()
    elif url.get_backend_name() == "postgresql":
        _check_pg_versions(database_url)
        db_name = "database.pgdump"
        engine = _engine(database_url)
        try:
            with engine.connect() as conn:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                    args, env = _pg_env(database_url)
                    done = subprocess.run([_pg_tool("pg_dump"), *args, "-Fc", "--no-owner",  # noqa: S603
                                           "--no-privileges", f"--snapshot={snapshot}", "-f", str(out_dir / db_name),
                                           url.database or ""], env=env, capture_output=True, text=True)
                    if done.returncode != 0:
                        raise ServiceUnavailableError("pg_dump thất bại.",
                                                      details=done.stderr.strip().splitlines()[-5:])
                    with Session(bind=conn) as session:
                        yield db_name, session
        finally:
            engine.dispose()
    else:
        raise ValidationError(f"Chưa hỗ trợ sao lưu cơ sở dữ liệu loại {url.get_backend_name()}.")


def _copy_blobs(session: Session, store: Storage, files_root: Path,
                entries: dict[str, dict[str, object]]) -> tuple[int, list[str]]:
    """Copy (or, for the database store, only check) every blob the snapshot names; return count and problems."""
    in_dump = store.kind == "database"
    checker = DatabaseStorage(session) if in_dump else store  # the dump's own blob rows, not the live ones
    count, problems = 0, []
    for key, refs in referenced_blobs(session):
        named = ", ".join(str(r) for r in refs[:3]) + ("…" if len(refs) > 3 else "")
        if not is_key(key):
            problems.append(f"{key} ({named}): khóa lưu trữ không hợp lệ / malformed storage key")
            continue
        try:
            stream = checker.open(key)
        except BlobMissingError:
            problems.append(f"{key} ({named}): thiếu trong kho lưu trữ / missing from storage")
            continue
        if in_dump:
            size = stream.size
        else:
            target = files_root / key
            target.parent.mkdir(parents=True, exist_ok=True)
            h, size = hashlib.sha256(), 0
            with target.open("wb") as out:
                for piece in stream.chunks():
                    h.update(piece)
                    out.write(piece)
                    size += len(piece)
            if h.hexdigest() != digest_of(key):
                problems.append(f"{key} ({named}): sai mã SHA-256 / checksum mismatch")
                continue
            entries[f"files/{key}"] = {"sha256": digest_of(key), "size": size}
        if any(r.size != size for r in refs):
            problems.append(f"{key} ({named}): dài {size} byte, khác dữ liệu / size differs from its rows")
            continue
        count += 1
    return count, problems


def backup(out_dir: Path, *, database_url: str, store: Storage, signing_dir: Path | None = None,
           signing_key: str | None = None, alembic_heads: list[str] | None = None) -> BackupResult:
    """Write ``out_dir`` (must not exist or be empty): database copy, files/, the signing folder (``signing/``, or
    sealed into ``signing.sealed`` with ``signing_key``), manifest.json."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ValidationError(f"Thư mục {out_dir} đã có dữ liệu; hãy chọn thư mục mới cho bản sao lưu.")
    existed = out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    out_dir.chmod(0o700)  # keys and personal data: not for other accounts of the server
    try:
        entries: dict[str, dict[str, object]] = {}
        with _dumped(database_url, out_dir) as (db_name, session):
            count, problems = _copy_blobs(session, store, out_dir / "files", entries)
            # What the restore drill compares a restored copy with (app/ops/drill.py): the dumped snapshot itself.
            tables = table_fingerprints(session.connection())
        if problems:
            for problem in problems:
                log.error("backup: %s", problem)
            shown = problems[:MAX_LISTED] + ([f"… và {len(problems) - MAX_LISTED} lỗi khác / and "
                                              f"{len(problems) - MAX_LISTED} more"] if len(problems) > MAX_LISTED
                                             else [])
            raise BackupIncompleteError(
                f"Sao lưu thất bại: {len(problems)} tệp mà dữ liệu tham chiếu bị thiếu hoặc hỏng trong "
                f"{store.describe()}; chưa có bản sao lưu nào được tạo. / Backup failed: {len(problems)} referenced "
                "file(s) missing or damaged in storage; no backup was written.", details=shown,
                log=f"backup refused: {len(problems)} referenced blobs missing or damaged in {store.describe()}")
        signing = 0
        if signing_dir is not None and signing_key:
            signing = seal_folder(Path(signing_dir), out_dir / SEALED, signing_key)
        elif signing_dir is not None:
            for path in _walk(Path(signing_dir)):
                target = out_dir / "signing" / path.relative_to(signing_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
                target.chmod(0o600)
                signing += 1
        total = 0
        for path in _walk(out_dir):
            rel = path.relative_to(out_dir).as_posix()
            if rel == MANIFEST:
                continue
            if rel not in entries:  # blobs were hashed while copied
                entries[rel] = {"sha256": _sha256(path), "size": path.stat().st_size}
            total += int(entries[rel]["size"])  # type: ignore[call-overload]
        manifest = {"format": FORMAT, "created_at": clock.now().isoformat(),
                    "database": {"backend": make_url(database_url).get_backend_name(), "file": db_name},
                    "storage": {"kind": store.kind, "blobs": count}, "signing_files": signing,
                    "signing_sealed": bool(signing_dir is not None and signing_key),
                    "alembic_heads": alembic_heads or [], "files": entries, "tables": tables}
        (out_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True))
    except BaseException:
        _discard(out_dir, keep_dir=existed)
        raise
    private_tree(out_dir)  # every file of the backup owner-only, whatever the umask
    return BackupResult(out_dir, db_name, count, signing, total, bool(signing_dir is not None and signing_key))


def _discard(out_dir: Path, *, keep_dir: bool) -> None:
    """Remove what a failed backup wrote, so that nothing incomplete passes for a backup."""
    for child in list(out_dir.iterdir()) if out_dir.exists() else []:
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    if not keep_dir:
        out_dir.rmdir()


def verify(backup_dir: Path) -> dict[str, Any]:
    """Every file listed is present with its checksum, and nothing unlisted hides in the backup."""
    backup_dir = Path(backup_dir)
    path = backup_dir / MANIFEST
    if not path.exists():
        raise BackupCorruptedError(f"Không phải bản sao lưu QLVB: thiếu {MANIFEST} trong {backup_dir}.")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackupCorruptedError(f"Tệp {MANIFEST} bị hỏng, không đọc được.") from exc
    if manifest.get("format") not in (FORMAT, OLD_FORMAT):
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
    return dict(manifest)


def _load_database(dump: Path, database_url: str, *, force: bool) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        src = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)  # a restore never changes the backup
        dst = sqlite3.connect(url.database)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    _check_pg_versions(database_url)
    args, env = _pg_env(database_url)
    cmd = [_pg_tool("pg_restore"), *args, "--no-owner", "--no-privileges", "--exit-on-error", "-d", url.database or ""]
    if force:
        cmd[1:1] = ["--clean", "--if-exists"]
    result = subprocess.run([*cmd, str(dump)], env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise ServiceUnavailableError("pg_restore thất bại.", details=result.stderr.strip().splitlines()[-5:])


def restore(backup_dir: Path, *, database_url: str, store_factory: Callable[[Session], Storage],
            signing_dir: Path | None = None, signing_key: str | None = None, upload_dir: Path | None = None,
            force: bool = False) -> dict[str, Any]:
    """Verify, then load the database, the files (into the store ``store_factory`` builds on a session of the
    restored database) and the signing folder (a sealed one needs ``signing_key``). Refuses a non-empty target
    unless ``force``."""
    backup_dir = Path(backup_dir)
    manifest = verify(backup_dir)
    sealed = open_sealed(backup_dir / SEALED, signing_key) if (backup_dir / SEALED).exists() else None
    try:
        return _restore(backup_dir, manifest, sealed, database_url=database_url, store_factory=store_factory,
                        signing_dir=signing_dir, upload_dir=upload_dir, force=force)
    finally:
        if sealed is not None:
            sealed.close()


def _restore(backup_dir: Path, manifest: dict[str, Any], sealed: IO[bytes] | None, *, database_url: str,
             store_factory: Callable[[Session], Storage], signing_dir: Path | None, upload_dir: Path | None,
             force: bool) -> dict[str, Any]:
    db_meta = manifest["database"]
    if db_meta["backend"] != make_url(database_url).get_backend_name():
        raise ValidationError(f"Bản sao lưu là {db_meta['backend']}, cơ sở dữ liệu đích là "
                              f"{make_url(database_url).get_backend_name()}.")
    if not force and _has_tables(database_url):
        raise ValidationError("Cơ sở dữ liệu đích đã có dữ liệu; chỉ khôi phục vào cơ sở dữ liệu mới "
                              "(hoặc dùng --force khi chắc chắn ghi đè).")
    if not force and signing_dir is not None and any(_walk(Path(signing_dir))):
        raise ValidationError(f"Thư mục khóa ký số {signing_dir} đã có tệp; chỉ khôi phục vào thư mục trống.")
    engine = _engine(database_url)
    try:
        with Session(engine) as session:
            store = store_factory(session)
            if not force and store.kind != "database" and next(iter(store.list_keys()), None) is not None:
                raise ValidationError(f"Kho lưu trữ đích ({store.describe()}) đã có tệp; chỉ khôi phục vào kho trống "
                                      "(hoặc dùng --force).")
            if manifest["format"] == OLD_FORMAT and not force and upload_dir is not None and any(_walk(upload_dir)):
                raise ValidationError(f"Thư mục tệp {upload_dir} đã có tệp; chỉ khôi phục vào thư mục trống.")
            session.close()
            _load_database(backup_dir / db_meta["file"], database_url, force=force)
            files_root = backup_dir / "files"
            if manifest["format"] == OLD_FORMAT:
                for path in _walk(files_root):
                    target = Path(upload_dir or files_root) / path.relative_to(files_root)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target)
            else:
                for path in _walk(files_root):
                    key = path.relative_to(files_root).as_posix()
                    with path.open("rb") as fh:
                        store.put_stream(read_pieces(fh), sha256=digest_of(key))
                    session.commit()
                if manifest.get("storage", {}).get("kind") == "database" and store.kind != "database":
                    moved = migrate_blobs(session, DatabaseStorage(session), store)
                    if moved.failed:
                        raise BackupCorruptedError("Không chép được tệp từ cơ sở dữ liệu khôi phục sang kho lưu trữ.",
                                                   details=moved.failed[:MAX_LISTED])
    finally:
        engine.dispose()
    if signing_dir is not None and sealed is not None:
        unpack(sealed, Path(signing_dir))
    elif signing_dir is not None:
        for path in _walk(backup_dir / "signing"):
            target = Path(signing_dir) / path.relative_to(backup_dir / "signing")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            target.chmod(0o600)
    return manifest


def _has_tables(database_url: str) -> bool:
    from sqlalchemy import inspect

    engine = create_engine(database_url)
    try:
        return bool(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def backup_age(manifest: dict[str, object]) -> dt.timedelta:
    return clock.now() - dt.datetime.fromisoformat(str(manifest["created_at"]))


def prune(root: Path, *, keep: int) -> list[Path]:
    """Remove all but the ``keep`` newest backups directly under ``root`` (folders with a QLVB manifest, by the
    time the manifest records); anything else in ``root`` is left alone. Return what was removed."""
    if keep < 1:
        raise ValidationError("Phải giữ lại ít nhất 1 bản sao lưu.")
    found: list[tuple[str, Path]] = []
    for child in sorted(Path(root).iterdir()) if Path(root).is_dir() else []:
        manifest = child / MANIFEST
        if not child.is_dir() or child.is_symlink() or not manifest.is_file():
            continue
        try:
            meta = json.loads(manifest.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError, OSError):
            log.warning("backup prune: %s has an unreadable manifest; left alone", child)
            continue
        if meta.get("format") in (FORMAT, OLD_FORMAT) and isinstance(meta.get("created_at"), str):
            found.append((meta["created_at"], child))
    found.sort(reverse=True)
    removed = [path for _, path in found[keep:]]
    for path in removed:
        shutil.rmtree(path)
        log.info("backup prune: removed %s (keeping the %s newest)", path, keep)
    return removed
