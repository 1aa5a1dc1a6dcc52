"""Reuse the documents domain's fixtures; one real dovecot for the module (skipped only without its binary)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.integration.documents.conftest import office, sample_pdf  # noqa: F401
from tests.support import dovecot

USERS = {f"vanthu{i}@sttn.vinhphuc.gov.vn": f"Mat-khau-thu-{i}" for i in range(12)}
_free = itertools.count()


@pytest.fixture(scope="module")
def imap_server() -> Iterator[dovecot.ImapServer]:
    if not dovecot.available():
        pytest.skip("dovecot is not installed (Debian package dovecot-imapd, in the Makefile's TEST_PACKAGES)")
    with dovecot.running_dovecot(USERS) as server:
        yield server


@pytest.fixture
def imap_user() -> str:
    """A mailbox of its own for each test."""
    return list(USERS)[next(_free) % len(USERS)]
