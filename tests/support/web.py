"""An HTTP client bound to one agency host, with a real login (real CSRF token)."""

from __future__ import annotations

import contextvars
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    m = _CSRF.search(html)
    if not m:
        m = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert m, "no CSRF token in page"
    return next(g for g in m.groups() if g)


class HostClient:
    """``HostClient(app, "isotttt.localhost")`` sends every request to that host."""

    def __init__(self, app: Flask, host: str):
        self.app = app
        self.host = host
        self.client: FlaskClient = app.test_client()

    def _url(self, path: str) -> dict[str, Any]:
        return {"base_url": f"http://{self.host}"}

    # Each request runs in an empty contextvars context, so it gets its own app context, ``g`` and DB
    # session like a real request, instead of reusing the test body's (which would leak g.agency or
    # the CSRF token cached in g between "users").
    # Streamed bodies (downloads) are read inside that context too (``buffered``): their generator needs it.
    def get(self, path: str, **kw: Any) -> Any:
        kw.setdefault("buffered", True)
        return contextvars.Context().run(self.client.get, path, **self._url(path), **kw)

    def post(self, path: str, **kw: Any) -> Any:
        kw.setdefault("buffered", True)
        return contextvars.Context().run(self.client.post, path, **self._url(path), **kw)

    def form_post(self, path: str, data: dict[str, Any], *, from_page: str | None = None, **kw: Any) -> Any:
        """POST ``data`` with the CSRF token of the page the form lives on (``from_page`` or ``path``)."""
        page = self.get(from_page or path)
        token = csrf_token(page.get_data(as_text=True))
        return self.post(path, data={**data, "csrf_token": token}, **kw)

    def login(self, email: str, password: str) -> Any:
        resp = self.form_post("/login/", {"username": email, "password": password})
        return resp

    def logout(self) -> Any:
        return self.get("/logout/")
