"""Password hashes: argon2id for new ones; werkzeug's (scrypt/pbkdf2) still verified and upgraded at login."""

from __future__ import annotations

import contextlib
import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from werkzeug.security import check_password_hash

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile defaults


def _norm(password: str) -> str:
    # The same password typed on two keyboards (NFC or NFD Vietnamese) must hash alike.
    return unicodedata.normalize("NFC", password)


def hash_password(password: str) -> str:
    return _hasher.hash(_norm(password))


# For secrets the system generates itself (bulk import: 16 random characters, about 95 bits): guessing is out of
# reach whatever the cost, so a thousand accounts hash in seconds, not minutes. verify_password reports such a
# hash as needing a rehash, so the first login stores the default parameters.
_generated_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


def hash_generated_password(password: str) -> str:
    return _generated_hasher.hash(_norm(password))


def verify_password(stored: str | None, password: str) -> tuple[bool, bool]:
    """(matches, needs_rehash)."""
    if not stored or not password:
        return False, False
    if stored.startswith("$argon2"):
        try:
            _hasher.verify(stored, _norm(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False, False
        return True, _hasher.check_needs_rehash(stored)
    try:
        ok = check_password_hash(stored, _norm(password)) or check_password_hash(stored, password)
    except ValueError:
        return False, False
    return ok, ok


_dummy_hash: str | None = None


def dummy_verify(password: str) -> None:
    """Spend what a real check spends, for a name with no usable account: the answer time must not tell
    an unknown (or revoked, or other agency's) account from a known one."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("qlvb-dummy-" + secrets.token_hex(16))
    with contextlib.suppress(VerifyMismatchError, VerificationError, InvalidHashError):
        _hasher.verify(_dummy_hash, _norm(password or "x"))
