"""Vietnamese text: NFC normalisation (TCVN 6909:2001, Art 5) and diacritic folding for search."""

from __future__ import annotations

import unicodedata
from typing import Any, overload

_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "d"})


@overload
def nfc(value: str) -> str: ...
@overload
def nfc(value: None) -> None: ...
def nfc(value: str | None) -> str | None:
    """Return ``value`` in Unicode NFC (decomposed input from Mac/legacy tools is recomposed)."""
    if value is None:
        return None
    return unicodedata.normalize("NFC", value)


def nfc_any(value: Any) -> Any:
    """NFC-normalise strings nested in dicts/lists (form data, JSON payloads)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc_any(k): nfc_any(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(nfc_any(v) for v in value)
    return value


def notation_key(value: str | None) -> str:
    """The comparison key of a number/notation: "15/QĐ-UBND" and "15/qđ-ubnd " match, "15/QD-UBND" does not.

    Case-insensitive for every letter (Python's casefold, so "Đ" too: SQLite's lower() is ASCII-only),
    diacritics kept, whitespace removed."""
    if not value:
        return ""
    return "".join(unicodedata.normalize("NFC", value).casefold().split())


def fold(value: str | None) -> str:
    """Lower-case and strip diacritics: "Quyết định" -> "quyet dinh" (search keys)."""
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFD", value.translate(_FOLD_EXTRA))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(stripped.lower().split())


def is_nfc(value: str) -> bool:
    return unicodedata.is_normalized("NFC", value)
