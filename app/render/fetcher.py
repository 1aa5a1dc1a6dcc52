"""The only way WeasyPrint may load a resource: named assets, the package's own files, data: URLs.

Agency-edited templates are rendered here, so a template must never make the server read its own
files (``file:///etc/passwd``) or call the network (``http://169.254.169.254/``). Anything else stops
the rendering with :class:`AssetRefusedError` instead of being silently skipped, so a broken
template is noticed the first time it is used.
"""

from __future__ import annotations

import mimetypes
import os
import pathlib
import urllib.parse
import urllib.request
from collections.abc import Mapping

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

ASSET_SCHEME = "qlvb-asset"
PACKAGE_SCHEME = "qlvb-static"
FONT_SCHEME = "qlvb-font"

STATIC_DIR = pathlib.Path(__file__).with_name("static")
# Liberation Serif 2 covers every Vietnamese glyph; version 1 (fonts-liberation) misses 18, and
# fontconfig may pick it when both are installed, hence the explicit directory.
DEFAULT_FONT_DIR = pathlib.Path("/usr/share/fonts/truetype/liberation2")
FONT_DIR_ENV = "QLVB_FONT_DIR"

_DATA_MAX_BYTES = 5 * 1024 * 1024


def font_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get(FONT_DIR_ENV) or DEFAULT_FONT_DIR)


class RefusedURLError(FatalURLFetchingError):
    """Raised inside WeasyPrint; FatalURLFetchingError is the one kind it does not swallow."""

    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


class SafeURLFetcher(URLFetcher):
    """Serve ``qlvb-asset:<name>`` from ``assets``, package files, fonts and ``data:``; refuse the rest."""

    def __init__(self, assets: Mapping[str, bytes | pathlib.Path] | None = None):
        super().__init__(allowed_protocols=(), fail_on_errors=True)
        self._assets = dict(assets or {})

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        scheme, _, rest = url.partition(":")
        scheme = scheme.lower()
        if scheme == ASSET_SCHEME:
            name = urllib.parse.unquote(rest)
            if name not in self._assets:
                raise RefusedURLError(url)
            return _response(url, self._assets[name], name)
        if scheme == PACKAGE_SCHEME:
            return _response(url, _inside(STATIC_DIR, rest, url), rest)
        if scheme == FONT_SCHEME:
            return _response(url, _inside(font_dir(), rest, url), rest)
        if scheme == "data":
            return self._data(url)
        raise RefusedURLError(url)

    @staticmethod
    def _data(url: str) -> URLFetcherResponse:
        if len(url) > _DATA_MAX_BYTES * 2:
            raise RefusedURLError(url[:64])
        # urllib's DataHandler decodes base64/percent forms without touching any network.
        with urllib.request.DataHandler().data_open(urllib.request.Request(url)) as response:  # noqa: S310
            body = response.read()
            content_type = response.headers.get("Content-Type", "application/octet-stream")
        return URLFetcherResponse(url, body, {"Content-Type": content_type})


def _inside(root: pathlib.Path, relative: str, url: str) -> pathlib.Path:
    path = (root / urllib.parse.unquote(relative).lstrip("/")).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        raise RefusedURLError(url)
    return path


def _response(url: str, source: bytes | pathlib.Path, name: str) -> URLFetcherResponse:
    body = source.read_bytes() if isinstance(source, pathlib.Path) else bytes(source)
    content_type = mimetypes.guess_type(name)[0] or _sniff(body)
    return URLFetcherResponse(url, body, {"Content-Type": content_type})


def _sniff(body: bytes) -> str:
    if body.startswith(b"\x89PNG"):
        return "image/png"
    if body.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if body.lstrip().startswith(b"<svg") or b"<svg" in body[:256]:
        return "image/svg+xml"
    return "application/octet-stream"
