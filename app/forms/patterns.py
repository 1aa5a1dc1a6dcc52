"""Form ``pattern:`` checks run with RE2: time linear in the input whatever the agency admin wrote.

Python's ``re`` backtracks, so ``(a+)+$`` against 25 characters takes seconds of the worker that serves every
agency. RE2 has no backtracking (nor backreferences or look-arounds, which it refuses, and the definition check
says so). Its ``\\w`` and ``\\d`` are ASCII-only where Python's are Unicode; Vietnamese names need the Unicode
meaning, so those classes are rewritten to Unicode properties before compiling.
"""

from __future__ import annotations

import functools
from typing import Any

import re2

# Python's Unicode meaning of the Perl classes, written as RE2 Unicode properties.
_OUTSIDE = {"w": r"[\p{L}\p{N}_]", "W": r"[^\p{L}\p{N}_]", "d": r"\p{Nd}", "D": r"\P{Nd}"}
_INSIDE = {"w": r"\p{L}\p{N}_", "d": r"\p{Nd}", "D": r"\P{Nd}"}


class PatternError(ValueError):
    """The pattern is not one RE2 accepts; the message is Vietnamese."""


def _unicode_classes(pattern: str) -> str:
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if in_class and nxt == "W":
                raise PatternError(r"không dùng \W bên trong […]; hãy viết lớp ký tự phủ định [^…]")
            table = _INSIDE if in_class else _OUTSIDE
            out.append(table.get(nxt, ch + nxt))
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
            out.append(ch)
            i += 1
            # A "]" right after "[" or "[^" is a literal member of the class.
            if i < len(pattern) and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < len(pattern) and pattern[i] == "]":
                out.append(r"\]")
                i += 1
            continue
        if ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> Any:
    """The compiled RE2 program for a form ``pattern`` (Python syntax, Unicode classes); PatternError if refused."""
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(_unicode_classes(pattern), options)
    except re2.error as exc:
        detail = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        hint = ("; không dùng tham chiếu ngược (\\1) hay nhìn trước/nhìn sau ((?=…), (?<=…))"
                if "escape" in detail or "perl operator" in detail else "")
        raise PatternError(f"bộ máy kiểm tra an toàn (RE2) không nhận: {detail}{hint}") from None


def full_match(pattern: str, value: str) -> bool:
    return compile_pattern(pattern).fullmatch(value) is not None
