"""Files of opinion requests: the same checks and content-addressed storage as assigned work and documents."""

from app.assignments.files import StoredFile, UploadInfo, read_blob, store_uploads

__all__ = ["StoredFile", "UploadInfo", "read_blob", "store_uploads"]
