"""Files in and out of pages: posted ones as the documents domain's UploadInfo (checked there), stored ones streamed.

Downloads never read a whole file: the store's chunks go out as they are read, one Range request is answered with
206 (or 416), ``If-None-Match`` on the ETag (the content's SHA-256) with 304. Behind nginx with
``QLVB_X_ACCEL_REDIRECT=/protected/`` and the local store, the app only checks access and answers with an
``X-Accel-Redirect`` header; nginx sends the file itself (and handles ranges).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from flask import Response, abort, current_app, request, stream_with_context
from werkzeug.datastructures import Range

from app.documents.attachments import UploadInfo
from app.documents.filetypes import pdf_is_active
from app.documents.storage import BlobStream, open_blob
from app.web.security_headers import KEEPS_ETAG

INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})


def as_uploads(storages: Iterable[Any]) -> list[UploadInfo]:
    """Posted files (werkzeug FileStorage) as the plain values domain services take; empty inputs dropped."""
    return [UploadInfo(filename=f.filename, data=f.read()) for f in storages if f and f.filename]


def posted_files(field: str = "files") -> list[UploadInfo]:
    return as_uploads(request.files.getlist(field))


def send_stored(row: Any, *, what: str = "file") -> Response:
    """Send a file row (``id``, ``storage_key``, ``content_type``, ``filename``); 404 when it is ``None``."""
    if row is None:
        abort(404)
    stream = open_blob(row.storage_key, ref=f"{what} {row.id}")
    return send_blob(stream, filename=row.filename, content_type=row.content_type)


# A PDF bigger than this is not read whole just to decide how it opens: it is a download.
INLINE_PDF_CHECK_LIMIT = 32 * 1024 * 1024


def opens_inline(stream: BlobStream, content_type: str | None) -> bool:
    """Images and passive PDFs may open in the browser; a PDF that acts when opened (/OpenAction, JavaScript)
    and anything else is a download."""
    if content_type in {"image/png", "image/jpeg"}:
        return True
    return (content_type == "application/pdf" and stream.size <= INLINE_PDF_CHECK_LIMIT
            and not pdf_is_active(stream.read()))


def _byte_range(rng: Range, size: int) -> tuple[int, int] | None:
    """The one range asked for, clipped to the size; None when it lies wholly outside (416)."""
    start, stop = rng.ranges[0]
    if start < 0:  # suffix: the last -start bytes (all of them if the file is shorter)
        start = max(size + start, 0)
        stop = size
    stop = size if stop is None else min(stop, size)
    if start >= size or start >= stop:
        return None
    return start, stop


def send_blob(stream: BlobStream, *, filename: str, content_type: str | None, inline: bool = False,
              on_send: Callable[[], None] | None = None) -> Response:
    """Answer a GET/HEAD for a stored blob. ``on_send`` runs only when the file is sent from its first byte
    (not for a 304, a 416 or a later range of a file already being read), e.g. to write the audit line."""
    mimetype = content_type or "application/octet-stream"
    etag = stream.sha256
    disposition = "inline" if inline else "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Accept-Ranges": "bytes",
        "Cache-Control": "no-store",  # never kept by a browser or a proxy (app.web.security_headers)
    }
    if request.if_none_match and (request.if_none_match.star_tag or request.if_none_match.contains_weak(etag)):
        return _validated(Response(status=304, headers=headers), etag)
    accel = current_app.config.get("QLVB_X_ACCEL_REDIRECT") or ""
    if accel and stream.local_path is not None:
        if on_send is not None:
            on_send()
        return _validated(Response(b"", mimetype=mimetype, headers={
            **headers, "X-Accel-Redirect": accel.rstrip("/") + "/" + stream.key}), etag)
    start, stop, status = 0, stream.size, 200
    rng = request.range
    if_range = request.if_range
    range_applies = rng is not None and rng.units == "bytes" and len(rng.ranges) == 1 and (
        not (if_range.etag or if_range.date) or if_range.etag == etag)  # a date or another ETag: send it whole
    if range_applies and rng is not None:
        wanted = _byte_range(rng, stream.size)
        if wanted is None:
            return _validated(Response(status=416, headers={**headers, "Content-Range": f"bytes */{stream.size}"}),
                              etag)
        (start, stop), status = wanted, 206
    if on_send is not None and start == 0:
        on_send()
    body = stream.chunks(start, stop) if request.method != "HEAD" else iter(())
    resp = Response(stream_with_context(body), status=status, mimetype=mimetype, headers=headers,
                    direct_passthrough=True)
    resp.content_length = stop - start
    if status == 206:
        resp.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{stream.size}"
    return _validated(resp, etag)


def _validated(resp: Response, etag: str) -> Response:
    resp.set_etag(etag)
    setattr(resp, KEEPS_ETAG, True)
    return resp
