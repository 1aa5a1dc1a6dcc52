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


@dataclass(frozen=True)
class CscSignerRef:
    """A personal key held by a remote signing service (Cloud Signature Consortium API v1).

    ``pin`` (or ``otp``) is what the holder typed for this one signature: the service turns it into
    signature activation data bound to the hash being signed. ``access_token`` authenticates this
    installation to the service (OAuth2 bearer), never the holder."""

    service_url: str  # the base URL the API paths (/csc/v1/...) follow
    user_id: str | None = None  # the holder's account at the service (credentials/list)
    credential_id: str | None = None  # None: the holder's first credential
    pin: str | None = field(default=None, repr=False)
    otp: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    timeout_seconds: int = 30


@dataclass(frozen=True)
class LongTermRef:
    """Embed validation data (PAdES B-LT): the chain, CRLs and OCSP responses, fetched at signing time.

    ``archive_timestamp`` adds a document timestamp over that data (B-LTA)."""

    trust_roots: tuple[bytes, ...]
    archive_timestamp: bool = False
    fetch_timeout_seconds: int = 10


@dataclass(frozen=True)
class RevocationPolicy:
    """How verification checks that signing certificates were not revoked.

    ``mode``: "off" (not checked), "embedded" (only CRLs/OCSP responses inside the file),
    "online" (embedded data, else fetched from the CA's CRL/OCSP addresses within ``timeout_seconds``)."""

    mode: str = "off"
    timeout_seconds: int = 10


SignerRef = Pkcs12SignerRef | Pkcs11SignerRef | CscSignerRef
