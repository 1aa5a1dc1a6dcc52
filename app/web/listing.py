"""The tab and page a list page shows, read from ``?list=<tab>&page=<n>``; templates/_listing.html links them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask import request

PAGE_SIZE = 30


@dataclass(frozen=True)
class Listing:
    tabs: Sequence[tuple[str, str]]
    tab: str
    page: int
    size: int = PAGE_SIZE
    arg: str = "list"

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def counts(self, count: Callable[[str], int]) -> dict[str, int]:
        """``count(key)`` of every tab, for the badges."""
        return {key: count(key) for key, _ in self.tabs}


def read_listing(tabs: Sequence[tuple[str, str]], *, arg: str = "list", size: int = PAGE_SIZE) -> Listing:
    """The tab named by ``?<arg>=`` (the first of ``tabs`` when it names none of them) and the page, from 1."""
    keys = [key for key, _ in tabs]
    tab = request.args.get(arg, keys[0])
    if tab not in keys:
        tab = keys[0]
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    return Listing(tabs=tabs, tab=tab, page=page, size=size, arg=arg)
