"""The folder store (``QLVB_STORAGE=local``): ``<root>/sha256/ab/abcdef…``, written atomically (temp file + rename)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import pathlib
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from app.core import clock
from app.core.files import private_dir

from . import CHUNK, BlobStream, digest_of, is_key, key_for, missing, read_pieces, spool


class LocalStorage:
    kind = "local"

    def __init__(self, root: pathlib.Path | str):
        self.root = pathlib.Path(root)

    def describe(self) -> str:
        return f"thư mục {self.root}"

    def _path(self, key: str) -> pathlib.Path:
        digest_of(key)  # keys come from our rows, but never let one name a path outside root
        return self.root / key

    def _touch(self, path: pathlib.Path) -> bool:
        """Mark content as just used (the sweep's grace period starts again, on the app's clock); False if absent."""
        now = clock.now().timestamp()
        try:
            os.utime(path, (now, now))
        except FileNotFoundError:
            return False
        return True

    def _write(self, key: str, source: IO[bytes] | bytes) -> str:
        path = self._path(key)
        if self._touch(path):
            return key
        private_dir(path.parent)  # owner-only even if the process umask is lax
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(source, bytes):
                    out.write(source)
                else:
                    for piece in read_pieces(source):
                        out.write(piece)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
            self._touch(path)
        except BaseException:
            pathlib.Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def put(self, data: bytes) -> str:
        return self._write(key_for(hashlib.sha256(data).hexdigest()), data)

    def put_stream(self, chunks: Iterable[bytes], *, sha256: str | None = None) -> str:
        spooled, digest, _ = spool(chunks, sha256=sha256)
        with spooled:
            return self._write(key_for(digest), spooled)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise missing(key, f"in {self.root}") from None

    def open(self, key: str) -> BlobStream:
        path = self._path(key)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise missing(key, f"in {self.root}") from None

        def reader(start: int, stop: int) -> Iterator[bytes]:
            try:
                fh = path.open("rb")
            except FileNotFoundError:
                raise missing(key, f"in {self.root}") from None
            with fh:
                fh.seek(start)
                left = stop - start
                while left > 0:
                    piece = fh.read(min(CHUNK, left))
                    if not piece:
                        break
                    left -= len(piece)
                    yield piece

        return BlobStream(key, size, reader, local_path=path)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_if_stale(self, key: str, min_age_seconds: float) -> bool:
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError):
            if clock.now().timestamp() - path.stat().st_mtime >= min_age_seconds:
                path.unlink()
                return True
        return False

    def age_seconds(self, key: str) -> float:
        try:
            return clock.now().timestamp() - self._path(key).stat().st_mtime
        except FileNotFoundError:
            raise missing(key, f"in {self.root}") from None

    def list_keys(self) -> Iterator[str]:
        """Every stored key, in order, one folder at a time (no list of millions in memory)."""
        base = self.root / "sha256"
        if not base.is_dir():
            return
        for folder in sorted(p for p in base.iterdir() if p.is_dir()):
            for path in sorted(folder.iterdir()):
                key = f"sha256/{folder.name}/{path.name}"
                if is_key(key):
                    yield key
