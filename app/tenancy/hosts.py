"""Host name -> agency code. Pure: the request layer passes the host in."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class HostRef:
    code: str | None  # agency code (``isotttt``), or None for an unrecognisable host
    host: str


def normalise_host(raw: str) -> str:
    host = (raw or "").strip().lower().rstrip(".")
    if host.startswith("["):  # IPv6 literal with port
        return host.split("]")[0] + "]"
    return host.split(":", 1)[0]


def host_to_code(raw_host: str, *, domain_suffix: str, local_suffix: str, central_host: str) -> HostRef:
    """Map ``isotttt.vinhphuc.gov.vn``, ``isotttt.localhost`` and ``sotttt.localhost`` to ``isotttt``.

    The central domain (and bare localhost/127.0.0.1 for a developer) maps to ``qlvb``. The caller
    still checks the code against the agencies table: an unknown code is an unknown host.
    """
    host = normalise_host(raw_host)
    if host in (central_host.lower(), f"qlvb.{local_suffix}", local_suffix, "127.0.0.1", "[::1]"):
        return HostRef("qlvb", host)
    for suffix in (domain_suffix.lower(), local_suffix.lower()):
        tail = "." + suffix
        if host.endswith(tail):
            label = host[: -len(tail)]
            if _LABEL.match(label):
                return HostRef(label, host)
    return HostRef(None, host)


def candidate_codes(ref: HostRef) -> tuple[str, ...]:
    """``sotttt`` locally means ``isotttt``: try the label as given, then with the regulation's ``i``."""
    if ref.code is None:
        return ()
    if ref.code.startswith("i") or ref.code == "qlvb":
        return (ref.code,)
    return (ref.code, "i" + ref.code)
