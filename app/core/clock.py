"""The one clock: timezone-aware, Vietnam time for dates users see. Tests may freeze it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """Current time, aware, in UTC."""
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(dt.UTC)


def local_now() -> dt.datetime:
    return now().astimezone(VN_TZ)


def today() -> dt.date:
    """Today's date in Vietnam (what 'ngày' means on a document)."""
    return local_now().date()


def freeze(at: dt.datetime | None) -> None:
    """Freeze the clock (tests); ``None`` unfreezes."""
    global _frozen
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    _frozen = at
