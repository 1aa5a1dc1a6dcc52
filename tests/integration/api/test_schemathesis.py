"""Schemathesis against /api/v1/openapi.json: the answers of every operation match the document (WSGI, no server).

The calls carry the token of a system account with every scope on a fresh agency that has one registered
document with a file, so the reads find something and the write path is exercised too; examples are bounded so
the whole run stays well under two minutes.
"""

from __future__ import annotations

import contextvars
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.api.conftest import incoming_data

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_target(app: Any, office: Any, sample_pdf: bytes, api_caller: Any) -> dict[str, Any]:
    from app.documents import services as ds
    from app.documents.attachments import UploadInfo
    from app.extensions import db

    o = office()
    ds.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(),
                         files=[UploadInfo("cong-van.pdf", sample_pdf)])
    db.session.commit()
    caller = api_caller(o.code, rate_limit=100_000)
    host = f"{o.code}.localhost"

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        # Each call on the agency's host, in a context of its own (like a real request: its own g and session).
        environ = {**environ, "HTTP_HOST": host, "SERVER_NAME": host}
        return list(contextvars.Context().run(app, environ, start_response))

    return {"wsgi": wsgi, "headers": caller.headers()}


def test_api_conforms_to_its_openapi_document(api_target: dict[str, Any]) -> None:
    from hypothesis import given

    # Loaded eagerly: schemathesis' lazy pytest loader (from_fixture) does not run under this pytest.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_target["wsgi"])
    seen = []
    for result in schema.get_all_operations():
        operation = result.ok()
        seen.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: Any) -> None:
            case.call_and_validate(headers=api_target["headers"], checks=CHECKS)

        run()
    assert "GET /api/v1/documents/{document_id}" in seen and "POST /api/v1/documents/incoming" in seen
