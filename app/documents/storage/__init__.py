"""Where file bytes live: one protocol, three stores, chosen by ``QLVB_STORAGE``.

- ``local`` (default): a folder (``QLVB_UPLOAD_DIR``); one node, or a folder every node mounts.
- ``database``: ``blob`` + ``blob_chunk`` rows, written in the session of the row that names them, so a rolled-back
  transaction leaves neither an orphan nor a row pointing at nothing. Every node sees every file.
- ``s3``: an S3-API bucket (``QLVB_S3_*``), for large deployments.

Every store is content-addressed with the same keys (``sha256/ab/abcdef…``): rows keep their ``storage_key`` when
files move between stores (``flask qlvb storage migrate``), and two rows with the same file share one blob. Writing
again content that is already stored "touches" it; ``sweep`` only removes blobs no row names that nobody touched
for the grace period (a row in a transaction that has not committed yet may name a young blob).
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from app.core.errors import DomainError, NotFoundError, ServiceUnavailableError

CHUNK = 1 << 20  # 1 MiB: the unit of reads, writes and database chunks
KINDS = ("local", "database", "s3")
_KEY_RE = re.compile(r"sha256/[0-9a-f]{2}/[0-9a-f]{64}\Z")


class BlobMissingError(DomainError):
    """A row names a blob the store does not have: data was lost or the store is misconfigured (never the user)."""

    http_status = 404
    code = "blob_missing"
    log_level = logging.ERROR


class BlobChecksumError(DomainError):
    """Bytes do not hash to the key they are stored under."""

    http_status = 500
    code = "blob_checksum"
    log_level = logging.ERROR


class StorageUnavailableError(ServiceUnavailableError):
    code = "storage_unavailable"
    log_level = logging.ERROR


MISSING_MESSAGE = ("Không tìm thấy nội dung tệp trong kho lưu trữ. Sự cố đã được ghi vào nhật ký hệ thống; "
                   "vui lòng báo quản trị viên.")


def key_for(sha256_hex: str) -> str:
    return f"sha256/{sha256_hex[:2]}/{sha256_hex}"


def is_key(key: str) -> bool:
    return bool(_KEY_RE.match(key))


def digest_of(key: str) -> str:
    """The SHA-256 a key promises; a malformed key (never written by us) is a missing blob, not a path."""
    if not _KEY_RE.match(key):
        raise NotFoundError("Không tìm thấy tệp đính kèm", log=f"malformed storage key {key!r}")
    return key.rsplit("/", 1)[1]


def missing(key: str, where: str = "") -> BlobMissingError:
    return BlobMissingError(MISSING_MESSAGE, log=f"missing blob {key}{' ' + where if where else ''}")


@dataclass(frozen=True)
class BlobStream:
    """An open blob: its size, and its bytes read lazily in chunks of at most ``CHUNK`` (whole or a range)."""

    key: str
    size: int
    reader: Callable[[int, int], Iterator[bytes]] = field(repr=False)
    # Set by the local store: the file itself, for X-Accel-Redirect (nginx sends it).
    local_path: Path | None = None

    @property
    def sha256(self) -> str:
        return self.key.rsplit("/", 1)[1]

    def chunks(self, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """Bytes ``start`` to ``stop`` (exclusive, clipped to the size)."""
        stop = self.size if stop is None else min(stop, self.size)
        if start >= stop:
            return iter(())
        return self.reader(start, stop)

    def read(self) -> bytes:
        return b"".join(self.chunks())


class Storage(Protocol):
    """A blob store keyed by content (``local``, ``database`` or ``s3``)."""

    kind: str

    def put(self, data: bytes) -> str: ...
    def put_stream(self, chunks: Iterable[bytes], *, sha256: str | None = None) -> str: ...
    def get(self, key: str) -> bytes: ...
    def open(self, key: str) -> BlobStream: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def delete_if_stale(self, key: str, min_age_seconds: float) -> bool: ...
    def list_keys(self) -> Iterator[str]: ...
    def age_seconds(self, key: str) -> float: ...
    def describe(self) -> str: ...


def spool(chunks: Iterable[bytes], *, sha256: str | None = None) -> tuple[IO[bytes], str, int]:
    """Copy a stream to a temporary file (in memory up to 8 MiB) while hashing it; check the expected hash."""
    h = hashlib.sha256()
    size = 0
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * CHUNK)  # noqa: SIM115  (returned open)
    try:
        for piece in chunks:
            h.update(piece)
            out.write(piece)
            size += len(piece)
        digest = h.hexdigest()
        if sha256 is not None and digest != sha256:
            raise BlobChecksumError("Nội dung tệp không khớp mã SHA-256 của nó; không ghi vào kho lưu trữ.",
                                    log=f"checksum mismatch: expected {sha256}, got {digest} ({size} bytes)")
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return out, digest, size


def read_pieces(fh: IO[bytes], size: int = CHUNK) -> Iterator[bytes]:
    return iter(lambda: fh.read(size), b"")


def hash_stream(stream: BlobStream) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    for piece in stream.chunks():
        h.update(piece)
        size += len(piece)
    return h.hexdigest(), size


from .database import DatabaseStorage  # noqa: E402  (the stores use the names above)
from .local import LocalStorage  # noqa: E402
from .s3 import S3Settings, S3Storage  # noqa: E402


def storage_kind() -> str:
    from app.documents import settings

    kind = (settings.setting("QLVB_STORAGE") or "local").strip().lower()
    if kind not in KINDS:
        raise StorageUnavailableError(f"QLVB_STORAGE={kind!r} không hợp lệ; chọn một trong: {', '.join(KINDS)}.")
    return kind


def build_storage(kind: str | None = None, *, session: Any = None) -> Storage:
    """The store of ``kind`` (default: the configured one) for the current app; the database one writes through
    ``session`` (default: db.session)."""
    from app.documents import settings

    kind = kind or storage_kind()
    if kind == "local":
        return LocalStorage(settings.upload_dir())
    if kind == "database":
        if session is None:
            from app.extensions import db

            session = db.session
        return DatabaseStorage(session)
    if kind == "s3":
        return S3Storage.from_settings(S3Settings.from_config(settings.setting))
    raise StorageUnavailableError(f"Không có kho lưu trữ loại {kind!r}; chọn một trong: {', '.join(KINDS)}.")


def default_storage() -> Storage:
    return build_storage()


def open_blob(key: str, *, ref: str, storage: Storage | None = None) -> BlobStream:
    """Open the blob a row names; a missing one is logged (ERROR, by the error handler) with the row, ``ref``."""
    try:
        return (storage or default_storage()).open(key)
    except BlobMissingError as exc:
        raise BlobMissingError(exc.message, log=f"{exc.log} (named by {ref})") from None


def remove_unreferenced(storage: Storage, referenced: Iterable[str], *, min_age_seconds: float = 3600) -> int:
    """Delete blobs no row names (left by rolled-back transactions); return how many.

    Young (recently written or touched) blobs are kept: their row may belong to a transaction not committed yet.
    """
    keep = set(referenced)
    removed = 0
    for key in list(storage.list_keys()):
        if key not in keep and storage.delete_if_stale(key, min_age_seconds):
            removed += 1
    return removed


__all__ = [
    "CHUNK", "KINDS", "BlobChecksumError", "BlobMissingError", "BlobStream", "DatabaseStorage", "LocalStorage",
    "S3Settings", "S3Storage", "Storage", "StorageUnavailableError", "build_storage", "default_storage", "digest_of",
    "hash_stream", "is_key", "key_for", "missing", "open_blob", "remove_unreferenced", "spool", "storage_kind",
]
