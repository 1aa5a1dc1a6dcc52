"""Fixtures for the JSON API: an office (tests/integration/documents) and system accounts with tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.documents.conftest import incoming_data, office, sample_pdf  # noqa: F401  (fixtures)
from tests.support.web import HostClient

ALL_SCOPES = ("documents:read", "documents:write", "tasks:read", "exchange:read")


@dataclass
class ApiCaller:
    """A system account's token and a client on its agency's host that sends it with every request."""

    client_id: int
    user_id: int
    token: str
    host: HostClient

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}

    def get(self, path: str, **kw: Any) -> Any:
        return self.host.get(path, headers={**self.headers(), **kw.pop("headers", {})}, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.host.post(path, headers={**self.headers(), **kw.pop("headers", {})}, **kw)


@pytest.fixture
def api_caller(app: Any, client_for: Callable[[str], HostClient]) -> Callable[..., ApiCaller]:
    from app.accounts.api_clients import create_api_client
    from app.extensions import db
    from app.tenancy.queries import agency_by_code

    def factory(agency_code: str, scopes: tuple[str, ...] = ALL_SCOPES, *, rate_limit: int | None = None,
                name: str = "Cổng dịch vụ công tỉnh") -> ApiCaller:
        agency = agency_by_code(agency_code)
        issued = create_api_client(agency.id, agency.code, name=name, scopes=scopes, rate_limit=rate_limit)
        db.session.commit()
        return ApiCaller(issued.client.id, issued.client.user_id, issued.token, client_for(f"{agency_code}.localhost"))

    return factory
