"""Reuse the documents domain's fixtures: an agency with staff per role and the template processes published."""

from tests.integration.documents.conftest import incoming_data, office, sample_pdf  # noqa: F401
