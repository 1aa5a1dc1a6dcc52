"""Mark the words of a query in the original text, diacritics and all ("quyet" marks "Quyết")."""

from __future__ import annotations

import re
import unicodedata

from .criteria import ParsedQuery

_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "d"})


def _folded_with_map(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of the source character."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        decomposed = unicodedata.normalize("NFD", ch.translate(_FOLD_EXTRA))
        for part in decomposed:
            if unicodedata.category(part) == "Mn":
                continue
            for low in part.lower():
                out.append(low)
                origin.append(i)
    return "".join(out), origin


def highlight(text: str, query: ParsedQuery) -> list[tuple[str, bool]]:
    """Split ``text`` into (segment, is_match) pieces; a template wraps matches in <mark>."""
    if not text:
        return []
    if not query:
        return [(text, False)]
    folded, origin = _folded_with_map(text)
    tokens = sorted(set(query.tokens), key=len, reverse=True)
    pattern = re.compile(r"(?<![a-z0-9])(?:" + "|".join(re.escape(t) for t in tokens) + r")(?![a-z0-9])")
    marked = [False] * len(text)
    for m in pattern.finditer(folded):
        if m.end() > m.start():
            for k in range(origin[m.start()], origin[m.end() - 1] + 1):
                marked[k] = True
    # "Quyết định" reads as one mark, not two marks around a space.
    for i in range(1, len(text) - 1):
        if text[i] == " " and marked[i - 1] and marked[i + 1]:
            marked[i] = True
    pieces: list[tuple[str, bool]] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or marked[i] != marked[start]:
            pieces.append((text[start:i], marked[start]))
            start = i
    return pieces
