"""URL converters: an ``<int:…>`` beyond what a BIGINT column holds is no id at all (404, not a 500)."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

INT64_MAX = 2**63 - 1


class BoundedIntConverter(IntegerConverter):
    """Werkzeug's ``int`` converter, limited to 0 … 2**63-1 and at most 19 digits (no huge parses)."""

    regex = r"\d{1,19}"

    def __init__(self, map, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("max", INT64_MAX)
        super().__init__(map, *args, **kwargs)
