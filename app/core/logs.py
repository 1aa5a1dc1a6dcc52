"""Logging: plain text for a terminal, one JSON object per line for the province's log collector.

Every record carries ``request_id``: the X-Request-Id of the web request being served (taken from the reverse
proxy when it sends one, made up otherwise), or of the request that queued the job a worker is running, so one
id follows a user's action from nginx through the app node into Celery.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar, Token
from typing import IO

from pythonjsonlogger.json import JsonFormatter

current_request_id: ContextVar[str | None] = ContextVar("qlvb_request_id", default=None)

# What we accept from outside: an id is echoed into headers and logs, so no spaces, quotes or newlines.
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}\Z")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"
FORMATS = ("text", "json")


def clean_request_id(value: str | None) -> str | None:
    """The id as given, when it is a safe token; None when absent or unsafe (a new one is made then)."""
    if not value:
        return None
    value = value.strip()
    return value if _ID_RE.match(value) else None


def new_request_id() -> str:
    return uuid.uuid4().hex


def bind_request_id(value: str | None) -> Token[str | None]:
    return current_request_id.set(value)


def reset_request_id(token: Token[str | None]) -> None:
    current_request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or "-") on every record that passes the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id.get() or "-"
        return True


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                             json_ensure_ascii=False)
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(fmt: str = "text", level: str = "INFO", *,
                      stream: IO[str] | None = None) -> logging.Handler | None:
    """Install (once per process) the root handler of QLVB with the requested format; return it.

    Called by create_app and by the Celery worker (which otherwise installs its own format). Like
    ``logging.basicConfig``, plain text leaves alone a root logger someone else set up (pytest, a log config)."""
    fmt = (fmt or "text").strip().lower()
    if fmt not in FORMATS:
        fmt = "text"
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "qlvb", False)), None)
    if handler is None and stream is None and fmt == "text" and root.handlers:
        return None
    if handler is None or stream is not None:
        if handler is not None:
            root.removeHandler(handler)
        handler = logging.StreamHandler(stream)
        handler.qlvb = True  # type: ignore[attr-defined]
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    handler.setFormatter(formatter(fmt))
    root.setLevel(getattr(logging, str(level).upper(), logging.INFO))
    return handler
