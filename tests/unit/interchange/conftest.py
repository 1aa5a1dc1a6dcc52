"""Fixtures of the edXML tests."""

from __future__ import annotations

import pytest

from app.interchange import EnvelopeInfo

from .samples import full_package


@pytest.fixture
def package() -> EnvelopeInfo:
    return full_package()
