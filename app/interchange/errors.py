"""Why an edXML package or status message was refused: one typed error naming the field, in Vietnamese."""

from __future__ import annotations

from app.core.errors import ValidationError


class EnvelopeError(ValidationError):
    """The bytes are not an edXML package (or status message) we accept.

    ``field`` is the element's path inside the header ("MessageHeader/To[2]/OrganId"), or ``None`` when the
    whole input is at fault (not XML, too large, DOCTYPE). ``message`` is what the clerk and the sender's
    system read (it goes into the status 02 rejection); ``log`` is the admin's line, with the raw value.
    """

    code = "edxml_invalid"

    def __init__(self, reason: str, *, field: str | None = None, label: str | None = None, log: str | None = None):
        if field:
            where = f"{label} ({field})" if label else field
            message = f"Gói tin edXML không hợp lệ: {where} {reason}."
        else:
            message = f"Gói tin edXML không hợp lệ: {reason}."
        super().__init__(
            message,
            field_errors={field: [reason]} if field else None,
            log=f"edXML refused: {field or '-'}: {log or reason}",
        )
        self.field = field
        self.reason = reason


class EnvelopeTooLargeError(EnvelopeError):
    http_status = 413
    code = "edxml_too_large"
