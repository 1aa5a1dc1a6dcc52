"""Errors of the search domain."""

from __future__ import annotations

from app.core.errors import NotFoundError, ValidationError


class SearchQueryError(ValidationError):
    """The search box or a filter holds something we cannot search for; the message says what to fix."""

    code = "search_query"


class SavedSearchNotFoundError(NotFoundError):
    code = "saved_search_not_found"


class SearchExportError(ValidationError):
    """An export that cannot be made as asked (too many rows, unknown format or column)."""

    code = "search_export"
