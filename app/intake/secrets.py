"""Mailbox passwords: sealed with AES-256-GCM under a key from the configuration, or named by reference.

The key is QLVB_MAIL_SECRET_KEY, else SECRET_KEY (HKDF-SHA256 of it, so the session key itself never encrypts
anything). A reference names an environment variable, and only ``QLVB_MAIL_PASSWORD_*`` ones: an agency admin
must not be able to make the job send another secret of the server (SECRET_KEY …) to a host of their choosing.
"""

from __future__ import annotations

import base64
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from .errors import MailboxSecretError, MailboxSettingsError

PREFIX = "v1:"
REF_PATTERN = re.compile(r"^QLVB_MAIL_PASSWORD_[A-Z0-9_]{1,80}$")
_AAD = b"qlvb-mailbox-password"


def _key() -> bytes:
    secret = current_app.config.get("QLVB_MAIL_SECRET_KEY") or os.environ.get("QLVB_MAIL_SECRET_KEY") \
        or current_app.config.get("SECRET_KEY")
    if not secret:
        raise MailboxSecretError("Máy chủ chưa có khóa bảo vệ mật khẩu hộp thư (QLVB_MAIL_SECRET_KEY hoặc SECRET_KEY).")
    raw = secret.encode() if isinstance(secret, str) else bytes(secret)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"qlvb-mail-intake", info=_AAD).derive(raw)


def seal(password: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key()).encrypt(nonce, password.encode("utf-8"), _AAD)
    return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def unseal(value: str) -> str:
    if not value.startswith(PREFIX):
        raise MailboxSecretError("Mật khẩu hộp thư được lưu không đúng dạng; hãy nhập lại mật khẩu.")
    try:
        raw = base64.b64decode(value[len(PREFIX):], validate=True)
        return AESGCM(_key()).decrypt(raw[:12], raw[12:], _AAD).decode("utf-8")
    except (InvalidTag, ValueError) as exc:
        raise MailboxSecretError(
            "Không mở được mật khẩu hộp thư đã lưu (khóa của máy chủ đã thay đổi?); hãy nhập lại mật khẩu.",
            log=f"mailbox password cannot be unsealed: {exc!r}") from None


def check_reference(name: str) -> str:
    name = name.strip()
    if not REF_PATTERN.match(name):
        raise MailboxSettingsError(
            "Tên biến môi trường chứa mật khẩu phải bắt đầu bằng QLVB_MAIL_PASSWORD_ và chỉ gồm chữ in hoa, số, "
            "dấu gạch dưới.", field_errors={"password_ref": ["Ví dụ: QLVB_MAIL_PASSWORD_STTTT."]})
    return name


def password_of(sealed: str | None, ref: str | None) -> str:
    """The mailbox password: from the referenced variable when one is named, else the sealed value."""
    if ref:
        value = os.environ.get(check_reference(ref))
        if not value:
            raise MailboxSecretError(f"Biến môi trường {ref} chứa mật khẩu hộp thư chưa được đặt trên máy chủ.")
        return value
    if sealed:
        return unseal(sealed)
    raise MailboxSettingsError("Hộp thư chưa có mật khẩu; hãy nhập mật khẩu hoặc tên biến môi trường chứa mật khẩu.")
