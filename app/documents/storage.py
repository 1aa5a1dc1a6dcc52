"""Where attachment bytes live: outside the database, content-addressed by SHA-256.

Writing the blob before the row, under its own hash, means a failed transaction leaves at most an
unreferenced blob (never a row pointing at nothing); ``remove_unreferenced`` sweeps those. Two
documents with the same file share one blob (delivery to other agencies copies by reference).
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from typing import Protocol

from app.core.errors import NotFoundError
from app.core.files import private_dir

_KEY_RE = re.compile(r"sha256/[0-9a-f]{2}/[0-9a-f]{64}\Z")


class Storage(Protocol):
    """A blob store keyed by content; swap in S3/MinIO by implementing these four methods."""

    def put(self, data: bytes) -> str: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def list_keys(self) -> Iterator[str]: ...
    def age_seconds(self, key: str) -> float: ...


def key_for(sha256_hex: str) -> str:
    return f"sha256/{sha256_hex[:2]}/{sha256_hex}"


class LocalStorage:
    """A folder (``QLVB_UPLOAD_DIR``): ``sha256/ab/abcdef…``, written atomically (temp file + rename)."""

    def __init__(self, root: pathlib.Path | str):
        self.root = pathlib.Path(root)

    def _path(self, key: str) -> pathlib.Path:
        if not _KEY_RE.match(key):  # keys come from our rows, but never let one name a path outside root
            raise NotFoundError("Không tìm thấy tệp đính kèm")
        return self.root / key

    def put(self, data: bytes) -> str:
        key = key_for(hashlib.sha256(data).hexdigest())
        path = self._path(key)
        if path.exists():
            return key
        private_dir(path.parent)  # owner-only even if the process umask is lax
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            pathlib.Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError("Không tìm thấy tệp đính kèm trong kho lưu trữ", log=f"missing blob {key}") from None

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def age_seconds(self, key: str) -> float:
        return time.time() - self._path(key).stat().st_mtime

    def list_keys(self) -> Iterator[str]:
        base = self.root / "sha256"
        if not base.is_dir():
            return
        for path in sorted(base.glob("*/*")):
            key = f"sha256/{path.parent.name}/{path.name}"
            if _KEY_RE.match(key):
                yield key


def default_storage() -> Storage:
    from .settings import upload_dir

    return LocalStorage(upload_dir())


def remove_unreferenced(storage: Storage, referenced: Iterable[str], *, min_age_seconds: float = 3600) -> int:
    """Delete blobs no attachment row names (left by rolled-back transactions); return how many.

    Young blobs are kept: their row may belong to a transaction that has not committed yet.
    """
    keep = set(referenced)
    removed = 0
    for key in list(storage.list_keys()):
        if key not in keep and storage.age_seconds(key) >= min_age_seconds:
            storage.delete(key)
            removed += 1
    return removed
