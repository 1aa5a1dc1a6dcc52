"""Refuse to start a production process whose configuration would drift from the other nodes'.

Outside development (``QLVB_ENV=production``) a node must not make up its own secret key (it would log out
everyone whose session another node signed), must not keep its data in a SQLite file of its own disk, and must
not start without the broker it was told to use (its jobs would be lost). ``create_app`` raises
``ConfigurationError``; gunicorn, the Celery worker and `flask` then exit non-zero with this message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.core.errors import ConfigurationError

from .checks import MIN_SECRET_KEY_LENGTH, broker_reachable

PRODUCTION = "production"


def is_production(config: Mapping[str, Any]) -> bool:
    return str(config.get("QLVB_ENV") or "").strip().lower() == PRODUCTION


def configuration_problems(config: Mapping[str, Any]) -> list[str]:
    """What is wrong for production, one bilingual line each (empty: fine). Does not touch the network."""
    problems = []
    key = str(config.get("SECRET_KEY") or "")
    if not key:
        problems.append("Chưa đặt SECRET_KEY: mỗi máy chủ sẽ tự tạo khóa riêng và đăng xuất người dùng của máy khác. "
                        "/ SECRET_KEY is not set: each node would make its own and log everyone out.")
    elif len(key) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY quá ngắn ({len(key)} ký tự, cần ít nhất {MIN_SECRET_KEY_LENGTH}). "
                        f"/ SECRET_KEY is too short ({len(key)} characters, at least {MIN_SECRET_KEY_LENGTH}).")
    url = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    if not url or url.startswith("sqlite"):
        problems.append("DATABASE_URL chưa đặt hoặc là SQLite: môi trường sản xuất cần PostgreSQL dùng chung. "
                        "/ DATABASE_URL is unset or SQLite: production needs the shared PostgreSQL database.")
    if int(config.get("QLVB_TRUSTED_PROXIES") or 0) < 0:
        problems.append("QLVB_TRUSTED_PROXIES phải là số nguyên không âm. / QLVB_TRUSTED_PROXIES must be >= 0.")
    return problems


def check_production(config: Mapping[str, Any]) -> None:
    """Raise ConfigurationError listing every problem of a production configuration (nothing in development)."""
    if not is_production(config):
        return
    problems = configuration_problems(config)
    url = str(config.get("QLVB_CELERY_BROKER_URL") or "")
    if url:
        result = broker_reachable(url, float(config.get("QLVB_BROKER_CHECK_TIMEOUT") or 5))
        if not result.ok:
            problems.append(f"Không kết nối được hàng đợi công việc QLVB_CELERY_BROKER_URL ({result.detail}). "
                            "/ The Celery broker set in QLVB_CELERY_BROKER_URL is unreachable.")
    if problems:
        raise ConfigurationError(
            "QLVB không khởi động: cấu hình môi trường sản xuất (QLVB_ENV=production) không hợp lệ. "
            "/ QLVB refuses to start: the production configuration is invalid.",
            details=problems)
