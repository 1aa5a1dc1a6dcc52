"""Files in and out of pages: posted ones as the documents domain's UploadInfo (checked there), stored ones sent."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from flask import Response, abort, request, send_file

from app.assignments.files import read_blob
from app.documents.attachments import UploadInfo


def as_uploads(storages: Iterable[Any]) -> list[UploadInfo]:
    """Posted files (werkzeug FileStorage) as the plain values domain services take; empty inputs dropped."""
    return [UploadInfo(filename=f.filename, data=f.read()) for f in storages if f and f.filename]


def posted_files(field: str = "files") -> list[UploadInfo]:
    return as_uploads(request.files.getlist(field))


def send_stored(row: Any) -> Response:
    """Send a file row (``storage_key``, ``content_type``, ``filename``) as a download; 404 when it is ``None``."""
    if row is None:
        abort(404)
    return send_file(io.BytesIO(read_blob(row.storage_key)), mimetype=row.content_type, as_attachment=True,
                     download_name=row.filename)
