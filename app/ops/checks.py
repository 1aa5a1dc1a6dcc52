"""What a deployment needs to serve, each checked on its own: used by /readyz, `flask qlvb doctor` and startup.

Every check returns a ``CheckResult`` (never raises): its Vietnamese label and detail are what the admin reads,
``name`` is what a load balancer or a script matches on.
"""

from __future__ import annotations

import logging
import os
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select, text

from app.extensions import db

log = logging.getLogger("qlvb.ops")

MANDATORY_PROCESSES = ("incoming", "outgoing")
MIN_SECRET_KEY_LENGTH = 32


@dataclass(frozen=True)
class CheckResult:
    name: str
    label: str
    ok: bool
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "label": self.label, "detail": self.detail}


def _guarded(name: str, label: str, fn: Callable[[], CheckResult]) -> CheckResult:
    try:
        return fn()
    except Exception as exc:  # a check reports; it never takes the caller down
        log.warning("check %s failed: %s: %s", name, type(exc).__name__, exc)
        return CheckResult(name, label, False, f"{type(exc).__name__}: {exc}"[:500])


# -- database -------------------------------------------------------------------------------------------
def database() -> CheckResult:
    label = "Cơ sở dữ liệu kết nối được"

    def run() -> CheckResult:
        try:
            db.session.execute(text("SELECT 1"))
        finally:
            db.session.rollback()
        return CheckResult("database", label, True, db.engine.url.render_as_string(hide_password=True))

    return _guarded("database", label, run)


def migration_heads() -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    folder = Path(__file__).resolve().parent.parent / "migrations"
    return tuple(sorted(ScriptDirectory(str(folder)).get_heads()))


def migrations() -> CheckResult:
    label = "Cơ sở dữ liệu đã nâng cấp đến phiên bản mới nhất"

    def run() -> CheckResult:
        try:
            applied = tuple(sorted(r[0] for r in db.session.execute(text("SELECT version_num FROM alembic_version"))))
        finally:
            db.session.rollback()
        heads = migration_heads()
        if applied == heads:
            return CheckResult("migrations", label, True, ", ".join(heads))
        return CheckResult("migrations", label, False,
                           f"đang ở {', '.join(applied) or '(chưa nâng cấp)'}, cần {', '.join(heads)}; "
                           "chạy `flask qlvb init`")

    return _guarded("migrations", label, run)


# -- broker -----------------------------------------------------------------------------------------------
def broker_reachable(url: str, timeout: float = 5.0) -> CheckResult:
    """Connect to the Celery broker (Redis or RabbitMQ) once, within ``timeout`` seconds."""
    from kombu import Connection

    label = "Hàng đợi công việc (broker) kết nối được"
    shown = _hide_password(url)

    def run() -> CheckResult:
        with Connection(url, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
        return CheckResult("broker", label, True, shown)

    result = _guarded("broker", label, run)
    if not result.ok:
        return CheckResult("broker", label, False, f"{shown}: {result.detail}")
    return result


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not every broker URL parses as a database URL
        return url.split("@")[-1]


def broker() -> CheckResult | None:
    """The configured broker, or None when jobs run in the web process (no broker to check)."""
    url = str(current_app.config.get("QLVB_CELERY_BROKER_URL") or "")
    if not url:
        return None
    return broker_reachable(url, float(current_app.config.get("QLVB_BROKER_CHECK_TIMEOUT") or 5))


# -- storage ----------------------------------------------------------------------------------------------
def storage() -> CheckResult:
    """Write, read back and delete a small blob through the configured store; nothing is left behind."""
    from app.documents.storage import default_storage

    label = "Kho lưu trữ tệp ghi được"

    def run() -> CheckResult:
        store = default_storage()
        probe = f"qlvb readiness probe {uuid.uuid4().hex}".encode()
        try:
            key = store.put(probe)
            if store.get(key) != probe:
                return CheckResult("storage", label, False, "đọc lại không đúng nội dung vừa ghi")
            store.delete(key)
        finally:
            db.session.rollback()  # a store in the database writes through the session: leave nothing
        describe = getattr(store, "describe", None)
        return CheckResult("storage", label, True, describe() if callable(describe) else type(store).__name__)

    return _guarded("storage", label, run)


# -- files on disk ----------------------------------------------------------------------------------------
def signing_folder() -> CheckResult:
    """The keys' folder exists, this process can read it, and nobody else on the machine can."""
    from app.documents import settings

    label = "Thư mục khóa ký số chỉ tài khoản dịch vụ đọc được"

    def run() -> CheckResult:
        folder = settings.signing_dir()
        if not folder.is_dir():
            return CheckResult("signing", label, False, f"không có thư mục {folder}")
        if not os.access(folder, os.R_OK | os.X_OK):
            return CheckResult("signing", label, False, f"tài khoản dịch vụ không đọc được {folder}")
        exposed = [p for p in [folder, *folder.rglob("*")] if p.stat().st_mode & stat.S_IRWXO]
        if exposed:
            names = ", ".join(str(p.relative_to(folder.parent)) for p in exposed[:5])
            return CheckResult("signing", label, False,
                               f"{len(exposed)} mục cho người khác đọc/ghi ({names}); chạy `chmod -R o-rwx {folder}`")
        keys = sum(1 for p in folder.rglob("*.p12"))
        return CheckResult("signing", label, True, f"{folder} ({keys} tệp .p12)")

    return _guarded("signing", label, run)


def trust_roots() -> CheckResult:
    from app.documents import settings
    from app.documents.signatures import trust_roots as configured_roots

    label = "Có chứng thư gốc tin cậy để kiểm tra chữ ký số"

    def run() -> CheckResult:
        roots = configured_roots()
        folder = settings.trust_roots_dir()
        if not roots:
            return CheckResult("trust_roots", label, False,
                               f"thư mục {folder} không có tệp .pem/.crt/.cer/.der: không chữ ký nào được tin cậy")
        return CheckResult("trust_roots", label, True, f"{folder} ({len(roots)} tệp)")

    return _guarded("trust_roots", label, run)


def secret_key() -> CheckResult:
    label = "SECRET_KEY được đặt (chung cho mọi máy chủ)"
    key = str(current_app.config.get("SECRET_KEY") or "")
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return CheckResult("secret_key", label, False,
                           f"cần ít nhất {MIN_SECRET_KEY_LENGTH} ký tự, đang có {len(key)}")
    if os.environ.get("SECRET_KEY") == key:
        return CheckResult("secret_key", label, True, "biến môi trường SECRET_KEY")
    kept = Path(str(current_app.config.get("QLVB_INSTANCE_DIR") or current_app.instance_path)) / "secret_key"
    if kept.is_file() and kept.read_text().strip() == key:
        return CheckResult("secret_key", label, True,
                           f"tệp {kept} của máy này: nhiều máy chủ phải dùng chung một SECRET_KEY")
    return CheckResult("secret_key", label, True, "cấu hình")


# -- processes --------------------------------------------------------------------------------------------
def agency_processes() -> CheckResult:
    """Every agency can start both mandatory processes: its own published version or SoICT's template."""
    from app.tenancy.models import Agency
    from app.workflow.models import ProcessVersion

    label = "Mỗi cơ quan có quy trình văn bản đến và văn bản đi đã ban hành"

    def run() -> CheckResult:
        try:
            published = db.session.execute(
                select(ProcessVersion.agency_id, ProcessVersion.process_key, func.count())
                .where(ProcessVersion.status == "published", ProcessVersion.process_key.in_(MANDATORY_PROCESSES))
                .group_by(ProcessVersion.agency_id, ProcessVersion.process_key)
            ).all()
            agencies = db.session.execute(
                select(Agency.code, Agency.id).where(Agency.is_central.is_(False)).order_by(Agency.code)).all()
        finally:
            db.session.rollback()
        have = {(agency_id, key) for agency_id, key, _n in published}
        missing = [f"{code}: {key}" for code, agency_id in agencies for key in MANDATORY_PROCESSES
                   if (agency_id, key) not in have and (None, key) not in have]
        if not agencies:
            return CheckResult("processes", label, False, "chưa có cơ quan nào; chạy `flask qlvb init`")
        if missing:
            return CheckResult("processes", label, False,
                               f"{len(missing)} thiếu: {'; '.join(missing[:10])}{' …' if len(missing) > 10 else ''}")
        return CheckResult("processes", label, True, f"{len(agencies)} cơ quan")

    return _guarded("processes", label, run)


# -- mail -------------------------------------------------------------------------------------------------
def mail() -> CheckResult:
    cfg = current_app.config
    label = "Gửi thư điện tử"
    if not cfg.get("QLVB_MAIL_ENABLED", True):
        return CheckResult("mail", label, True, "tắt toàn tỉnh (QLVB_MAIL_ENABLED=0): thư trong hàng đợi bị hủy")
    if not cfg.get("QLVB_SMTP_HOST"):
        return CheckResult("mail", label, False,
                           "bật nhưng máy này chưa cấu hình QLVB_SMTP_HOST: thư nằm chờ trong hàng đợi")
    return CheckResult("mail", label, True, f"{cfg['QLVB_SMTP_HOST']}:{cfg.get('QLVB_SMTP_PORT') or 25}")


def readiness() -> list[CheckResult]:
    """What /readyz answers on: can this node serve requests right now."""
    found = [database()]
    queue = broker()
    if queue is not None:
        found.append(queue)
    found.append(storage())
    return found


def doctor() -> list[CheckResult]:
    """Everything `flask qlvb doctor` checks, in the order a new deployment is usually fixed."""
    found = [database(), migrations()]
    found.append(broker() or CheckResult("broker", "Hàng đợi công việc (broker)", True,
                                         "không cấu hình: công việc nền chạy trong tiến trình web"))
    found += [storage(), signing_folder(), trust_roots(), secret_key(), agency_processes(), mail()]
    return found
