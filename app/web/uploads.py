"""Files posted in a form's ``files`` field, as the documents domain's UploadInfo (checked there)."""

from __future__ import annotations

from flask import request

from app.documents.attachments import UploadInfo


def posted_files(field: str = "files") -> list[UploadInfo]:
    return [UploadInfo(filename=f.filename, data=f.read()) for f in request.files.getlist(field) if f.filename]
