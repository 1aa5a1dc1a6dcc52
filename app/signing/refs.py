"""Where a signing key lives. Plain frozen values, so services and jobs can pass them around."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pkcs12SignerRef:
    """A .p12/.pfx file holding the key, its certificate and (ideally) the issuing chain."""

    path: pathlib.Path | str
    passphrase: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Pkcs11SignerRef:
    """A key on a PKCS#11 token (USB token, HSM, SoftHSM in tests)."""

    module_path: str
    token_label: str
    key_label: str
    pin: str | None = field(default=None, repr=False)
    cert_label: str | None = None  # defaults to key_label


@dataclass(frozen=True)
class TsaRef:
    """An RFC 3161 time-stamping service."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_seconds: int = 10


SignerRef = Pkcs12SignerRef | Pkcs11SignerRef
