"""Errors of the dossiers domain."""

from __future__ import annotations

from app.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError


class DossierNotFoundError(NotFoundError):
    code = "dossier_not_found"


class DossierPermissionError(PermissionDeniedError):
    code = "dossier_permission"


class DossierStateError(ConflictError):
    """The dossier is not in the state the action needs (filing into a closed dossier, closing twice)."""

    code = "dossier_state"


class DossierValidationError(ValidationError):
    code = "dossier_invalid"


class DossierFileCorruptError(ConflictError):
    """A stored file no longer matches the checksum recorded when it was stored: it is not exported."""

    code = "dossier_file_corrupt"
