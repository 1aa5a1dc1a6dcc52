"""Password policy of database accounts (Art 9: staff keep passwords secret and change them regularly)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.core.text import fold


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 10
    # How many of the four kinds (lower case, upper case, digit, other) a password must mix.
    min_classes: int = 3
    history: int = 5
    max_age_days: int = 90
    # Wrong passwords in a row from unknown browsers before each further attempt must wait (app.accounts.throttle).
    max_failures: int = 5

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PasswordPolicy:
        return cls(
            min_length=int(config.get("QLVB_PASSWORD_MIN_LENGTH", cls.min_length)),
            min_classes=int(config.get("QLVB_PASSWORD_MIN_CLASSES", cls.min_classes)),
            history=int(config.get("QLVB_PASSWORD_HISTORY", cls.history)),
            max_age_days=int(config.get("QLVB_PASSWORD_MAX_AGE_DAYS", cls.max_age_days)),
            max_failures=int(config.get("QLVB_PASSWORD_MAX_FAILURES", cls.max_failures)),
        )


def _classes(password: str) -> int:
    kinds = [any(c.islower() for c in password), any(c.isupper() for c in password),
             any(c.isdigit() for c in password), any(not c.isalnum() for c in password)]
    return sum(kinds)


def password_problems(password: str, policy: PasswordPolicy, *, email: str = "", full_name: str = "") -> list[str]:
    """Every rule the password breaks, in Vietnamese; empty when it is acceptable."""
    password = unicodedata.normalize("NFC", password or "")
    problems = []
    if len(password) < policy.min_length:
        problems.append(f"Mật khẩu cần ít nhất {policy.min_length} ký tự.")
    if _classes(password) < policy.min_classes:
        problems.append(f"Mật khẩu cần kết hợp ít nhất {policy.min_classes} trong 4 loại ký tự: chữ thường, "
                        "chữ hoa, chữ số, ký tự đặc biệt.")
    if password != password.strip():
        problems.append("Mật khẩu không được bắt đầu hoặc kết thúc bằng dấu cách.")
    folded = fold(password).replace(" ", "")
    local = fold(email.split("@", 1)[0]) if email else ""
    if local and len(local) >= 4 and local in folded:
        problems.append("Mật khẩu không được chứa tên tài khoản.")
    name_parts = [p for p in fold(full_name).split() if len(p) >= 4]
    if any(p in folded for p in name_parts):
        problems.append("Mật khẩu không được chứa họ tên của bạn.")
    if len(set(password)) <= 2 and password:
        problems.append("Mật khẩu quá đơn giản (lặp lại một vài ký tự).")
    return problems
