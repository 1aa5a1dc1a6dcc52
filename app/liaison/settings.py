"""Exchange settings from the app config (README, "Configuration": QLVB_AXIS_*, QLVB_EXCHANGE_*)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HubSystem:
    """A system connected to this deployment's hub: its code, its bearer token, the agencies it serves."""

    code: str
    token: str
    organs: frozenset[str]


def _cfg(name: str, default: Any = None) -> Any:
    value = current_app.config.get(name, default)
    return default if value in (None, "") else value


def inline_local() -> bool:
    """In-deployment messages are handed over in the transaction that queued them (the job retries a failure)."""
    return bool(_cfg("QLVB_EXCHANGE_INLINE", True))


def retry_base_seconds() -> float:
    return float(_cfg("QLVB_EXCHANGE_RETRY_BASE", 30))


def retry_max_seconds() -> float:
    return float(_cfg("QLVB_EXCHANGE_RETRY_MAX", 3600))


def axis_url() -> str:
    return str(_cfg("QLVB_AXIS_URL", ""))


def axis_system_code() -> str:
    return str(_cfg("QLVB_AXIS_SYSTEM_CODE", ""))


def axis_token() -> str:
    return str(_cfg("QLVB_AXIS_TOKEN", ""))


def axis_timeout() -> float:
    return float(_cfg("QLVB_AXIS_TIMEOUT", 30))


def hub_systems() -> dict[str, HubSystem]:
    """QLVB_AXIS_HUB_SYSTEMS: JSON {"<system code>": {"token": "…", "organs": ["000.00.00.H61", …]}}."""
    raw = _cfg("QLVB_AXIS_HUB_SYSTEMS", "")
    if not raw:
        return {}
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
        return {
            str(code): HubSystem(code=str(code), token=str(entry["token"]),
                                 organs=frozenset(str(o) for o in entry.get("organs", [])))
            for code, entry in dict(data).items()
        }
    except (ValueError, TypeError, KeyError) as error:
        log.error("QLVB_AXIS_HUB_SYSTEMS is not valid JSON of {code: {token, organs}}: %s", error)
        return {}
