"""Where files, keys and trust roots live: app config first, then the environment, then defaults.

``QLVB_SIGNING_PASSPHRASE_<CODE>`` names depend on the agency, so passphrases are read from the
environment at signing time (they are never written to the config or the database).
"""

from __future__ import annotations

import os
import pathlib
import re

from flask import current_app


def _setting(name: str, default: str | None = None) -> str | None:
    value = current_app.config.get(name) if current_app else None
    if value in (None, ""):
        value = os.environ.get(name, default)
    return None if value in (None, "") else str(value)


def setting(name: str, default: str | None = None) -> str | None:
    """A ``QLVB_*`` value: the app's config first, then the environment; empty counts as unset."""
    return _setting(name, default)


def upload_dir() -> pathlib.Path:
    return pathlib.Path(_setting("QLVB_UPLOAD_DIR") or pathlib.Path(current_app.instance_path) / "files")


def max_upload_bytes() -> int:
    return int(_setting("QLVB_MAX_UPLOAD_MB") or 50) * 1024 * 1024


def clamd_address() -> str | None:
    """``QLVB_CLAMD``: clamd's Unix socket (``/run/clamav/clamd.ctl``) or ``host:port``; unset = no virus scan."""
    return _setting("QLVB_CLAMD")


def clamd_timeout() -> float:
    return float(_setting("QLVB_CLAMD_TIMEOUT") or 30)


def signing_dir() -> pathlib.Path:
    configured = _setting("QLVB_SIGNING_DIR")
    if configured:
        return pathlib.Path(configured)
    return pathlib.Path(_setting("QLVB_INSTANCE_DIR") or current_app.instance_path) / "signing"


def trust_roots_dir() -> pathlib.Path:
    """Root certificates (DER or PEM) this installation trusts; an empty or absent folder trusts none."""
    configured = _setting("QLVB_TRUST_ROOTS")
    if configured:
        return pathlib.Path(configured)
    return pathlib.Path(_setting("QLVB_INSTANCE_DIR") or current_app.instance_path) / "trust"


def env_key(code: str) -> str:
    """``isotttt`` -> ``ISOTTTT``; ``nguyen.van.an@x.vn`` -> ``NGUYEN_VAN_AN_X_VN``."""
    return re.sub(r"[^A-Z0-9]+", "_", code.upper()).strip("_")


def passphrase(*names: str) -> str | None:
    """The first of ``QLVB_SIGNING_PASSPHRASE_<NAME>`` that is set, else ``QLVB_SIGNING_PASSPHRASE``."""
    for name in names:
        value = _setting(f"QLVB_SIGNING_PASSPHRASE_{env_key(name)}")
        if value is not None:
            return value
    return _setting("QLVB_SIGNING_PASSPHRASE")


def pkcs11_setting(code: str, what: str) -> str | None:
    """``QLVB_PKCS11_<WHAT>_<CODE>`` (module, token, key, pin) for an agency kept on a token."""
    return _setting(f"QLVB_PKCS11_{what.upper()}_{env_key(code)}")


PADES_LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


def tsa_url() -> str | None:
    """``QLVB_TSA_URL``: the RFC 3161 time-stamping service every signature is timestamped by."""
    return _setting("QLVB_TSA_URL")


def tsa_credentials() -> tuple[str | None, str | None, int]:
    return (_setting("QLVB_TSA_USERNAME"), _setting("QLVB_TSA_PASSWORD"), int(_setting("QLVB_TSA_TIMEOUT") or 10))


def pades_level() -> str:
    """``QLVB_PADES_LEVEL``: B-B, B-T, B-LT or B-LTA; by default B-LT with a TSA and B-B without one."""
    level = (_setting("QLVB_PADES_LEVEL") or ("B-LT" if tsa_url() else "B-B")).upper()
    return level if level in PADES_LEVELS else "B-B"


def revocation_mode() -> tuple[str, int]:
    """``QLVB_REVOCATION_CHECK`` (online, embedded, off; default online) and ``QLVB_REVOCATION_TIMEOUT`` (s)."""
    mode = (_setting("QLVB_REVOCATION_CHECK") or "online").lower()
    return (mode if mode in ("online", "embedded", "off") else "online"), int(_setting("QLVB_REVOCATION_TIMEOUT") or 10)


def csc_service(agency_code: str) -> tuple[str | None, str | None]:
    """``QLVB_CSC_URL[_<CODE>]`` (the remote signing service's base URL) and ``QLVB_CSC_TOKEN[_<CODE>]``."""
    key = env_key(agency_code)
    return (_setting(f"QLVB_CSC_URL_{key}") or _setting("QLVB_CSC_URL"),
            _setting(f"QLVB_CSC_TOKEN_{key}") or _setting("QLVB_CSC_TOKEN"))
