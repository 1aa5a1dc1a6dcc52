"""ISO 8601 timer values as modelers write them (``P7D``, ``R6/P1D``, ``2026-12-31T08:00``).

BPMN modelers write a timer as a bare literal; SpiffWorkflow evaluates the text as an expression, where
``P7D`` would be an unknown name. The loader therefore quotes valid literals before the engine sees
them (``quote_iso_literal``), and validation refuses anything that is not a literal of the right kind.
A date or time without an offset is Vietnam time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import aniso8601
from aniso8601.exceptions import ISOFormatError

from app.core.clock import VN_TZ

MAX_TIMER = dt.timedelta(days=366 * 10)
MAX_REPEATS = 1000
KIND_LABELS = {
    "timeDuration": "khoảng thời gian (ví dụ P7D = 7 ngày, PT4H = 4 giờ)",
    "timeDate": "thời điểm (ví dụ 2026-12-31T08:00)",
    "timeCycle": "chu kỳ lặp (ví dụ R6/P1D = 6 lần, mỗi ngày một lần)",
}


class TimerValueError(ValueError):
    """A timer text that is not a valid ISO 8601 value of its kind; ``message`` is Vietnamese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TimerValue:
    kind: str  # timeDuration | timeDate | timeCycle
    text: str  # the literal, normalised (dates carry their offset)


def _unquote(text: str) -> tuple[str, bool]:
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip(), True
    return value, False


def _duration(text: str) -> dt.timedelta:
    try:
        value = aniso8601.parse_duration(text.upper())
    except (ISOFormatError, ValueError, TypeError, OverflowError, NotImplementedError):
        raise TimerValueError(f"«{text}» không phải khoảng thời gian ISO 8601") from None
    if not isinstance(value, dt.timedelta) or value <= dt.timedelta(0):
        raise TimerValueError(f"«{text}»: khoảng thời gian phải lớn hơn 0")
    if value > MAX_TIMER:
        raise TimerValueError(f"«{text}»: khoảng thời gian quá dài (tối đa 10 năm)")
    return value


def _moment(text: str) -> str:
    """A date or date-time; returns it with the Vietnam offset when it had none."""
    try:
        if "T" in text.upper():
            moment = aniso8601.parse_datetime(text.upper())
        else:
            day = aniso8601.parse_date(text)
            moment = dt.datetime.combine(day, dt.time(0, 0))
    except (ISOFormatError, ValueError, TypeError, OverflowError, NotImplementedError):
        raise TimerValueError(f"«{text}» không phải thời điểm ISO 8601 (YYYY-MM-DD hoặc YYYY-MM-DDThh:mm)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    return moment.isoformat()


def _part(text: str) -> str:
    if text.upper().startswith("P"):
        _duration(text)
        return text.upper()
    return _moment(text)


def parse_timer(kind: str, text: str | None) -> TimerValue:
    """The literal of a timer of ``kind``, or TimerValueError saying what is wrong."""
    value, _ = _unquote(text or "")
    if not value:
        raise TimerValueError("chưa nhập giá trị hẹn giờ")
    if kind == "timeDuration":
        _duration(value)
        return TimerValue(kind, value.upper())
    if kind == "timeDate":
        return TimerValue(kind, _moment(value))
    if kind == "timeCycle":
        head, sep, rest = value.partition("/")
        if not sep or not head.upper().startswith("R"):
            raise TimerValueError(f"«{value}» không phải chu kỳ ISO 8601 (dạng R<số lần>/<khoảng thời gian>)")
        count = head[1:]
        if count and (not count.isdigit() or not 0 < int(count) <= MAX_REPEATS):
            raise TimerValueError(f"«{value}»: số lần lặp phải từ 1 đến {MAX_REPEATS}")
        parts = rest.split("/")
        if not 1 <= len(parts) <= 2 or not any(p.upper().startswith("P") for p in parts):
            raise TimerValueError(f"«{value}» phải có một khoảng thời gian, ví dụ R6/P1D")
        return TimerValue(kind, "/".join([f"R{count}", *(_part(p) for p in parts)]))
    raise TimerValueError("loại hẹn giờ không được hỗ trợ")


def quote_iso_literal(text: str, kind: str | None = None) -> str:
    """Turn a valid literal (bare or quoted) into the quoted, normalised string the engine evaluates.

    Text that is not a valid literal is left as it is (validation has refused it already)."""
    value, _ = _unquote(text)
    kinds = (kind,) if kind else ("timeDuration", "timeCycle", "timeDate")
    for candidate in kinds:
        try:
            parsed = parse_timer(candidate, value)
        except TimerValueError:
            continue
        return '"' + parsed.text + '"'
    return text
