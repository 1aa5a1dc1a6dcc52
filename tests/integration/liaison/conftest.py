"""The documents domain's fixtures (an agency with its staff, processes and keys) serve the exchange tests too."""

from tests.integration.documents.conftest import office, sample_pdf  # noqa: F401
