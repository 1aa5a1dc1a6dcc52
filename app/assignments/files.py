"""Files given with work: checked and stored like document attachments, in the same content-addressed storage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.documents.attachments import UploadInfo, check_files
from app.documents.settings import max_upload_bytes
from app.documents.storage import Storage, default_storage

__all__ = ["StoredFile", "UploadInfo", "read_blob", "store_uploads"]


@dataclass(frozen=True)
class StoredFile:
    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str


def store_uploads(uploads: Sequence[UploadInfo], *, storage: Storage | None = None) -> list[StoredFile]:
    """Refuse files the document rules refuse (type by content, size); write the accepted ones' bytes."""
    if not uploads:
        return []
    checked = check_files(uploads, max_bytes=max_upload_bytes())
    store = storage or default_storage()
    return [StoredFile(c.filename, c.content_type, c.size, c.sha256, store.put(u.data))
            for u, c in zip(uploads, checked, strict=True)]


def read_blob(storage_key: str, *, storage: Storage | None = None) -> bytes:
    return (storage or default_storage()).get(storage_key)
