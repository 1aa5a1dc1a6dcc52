"""Every string written to the database is NFC (Art 5, TCVN 6909:2001), whatever the form it arrived in.

A ``before_flush`` hook normalises the string attributes of new and changed objects, so the guarantee
holds for our models and Flask-AppBuilder's alike, at the one boundary all writes cross.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

_installed = False


def _normalise(obj: Any) -> None:
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        value = getattr(obj, attr.key, None)
        if isinstance(value, str) and not unicodedata.is_normalized("NFC", value):
            setattr(obj, attr.key, unicodedata.normalize("NFC", value))


def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.new) + list(session.dirty):
        _normalise(obj)


def install() -> None:
    global _installed
    if not _installed:
        event.listen(Session, "before_flush", _before_flush)
        _installed = True
