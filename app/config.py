"""Configuration: defaults here, every value overridable from the environment (documented in the README)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _database_url(instance_dir: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{instance_dir / 'qlvb.sqlite3'}"
    # postgresql:// means psycopg 3 here (psycopg2 is not installed).
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def environment() -> str:
    """``production`` outside development: then nothing is invented (see app.ops.startup)."""
    return (os.environ.get("QLVB_ENV") or "development").strip().lower()


def _secret_key(instance_dir: Path) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if environment() == "production":
        # A node that made up its own key would log out everyone whose session another node signed.
        return ""
    # Embedded default: one random key per installation, kept in instance/ (never in the repo).
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_hex(32)
    # Created 0600 from the start (no moment where another account could read it).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _ratelimit_storage() -> str:
    """Flask-Limiter's counters: shared Redis whenever one is configured; memory:// counts per worker."""
    explicit = os.environ.get("QLVB_RATELIMIT_STORAGE_URI")
    if explicit:
        return explicit
    redis_url = os.environ.get("QLVB_REDIS_URL") or ""
    broker = os.environ.get("QLVB_CELERY_BROKER_URL") or ""
    for url in (redis_url, broker):
        if url.startswith(("redis://", "rediss://", "redis+unix://", "unix://")):
            return url
    return "memory://"


def _engine_options() -> dict[str, object]:
    options: dict[str, object] = {"pool_pre_ping": True, "pool_size": _int("QLVB_DB_POOL_SIZE", 10),
                                  "max_overflow": _int("QLVB_DB_MAX_OVERFLOW", 50), "pool_timeout": 60}
    if _bool("QLVB_DB_PGBOUNCER", False):
        # pgbouncer in transaction pooling hands each transaction to any server connection: psycopg must not
        # prepare statements server-side (it does after 5 runs of one query by default).
        options["connect_args"] = {"prepare_threshold": None}
    return options


def build_config() -> dict[str, object]:
    """Read the environment once, at app creation."""
    instance_dir = Path(os.environ.get("QLVB_INSTANCE_DIR", ROOT / "instance"))
    upload_dir = Path(os.environ.get("QLVB_UPLOAD_DIR", instance_dir / "files"))
    domain_suffix = os.environ.get("QLVB_DOMAIN_SUFFIX", "vinhphuc.gov.vn")
    return {
        "QLVB_ENV": environment(),
        "SECRET_KEY": _secret_key(instance_dir),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_dir),
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        # One connection per concurrent request: the default pool (5 + 10) starves under 50 users while slow
        # work (argon2 password checks) holds connections; PostgreSQL allows 100 by default.
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(),
        "QLVB_INSTANCE_DIR": str(instance_dir),
        "QLVB_UPLOAD_DIR": str(upload_dir),
        # Where file bytes live (app/documents/storage): local (QLVB_UPLOAD_DIR) | database | s3 (QLVB_S3_*).
        "QLVB_STORAGE": os.environ.get("QLVB_STORAGE", "local"),
        # Retention of `flask qlvb backup-prune`: how many of the newest backups are kept.
        "QLVB_BACKUP_KEEP": _int("QLVB_BACKUP_KEEP", 14),
        "QLVB_S3_BUCKET": os.environ.get("QLVB_S3_BUCKET", ""),
        "QLVB_S3_ENDPOINT": os.environ.get("QLVB_S3_ENDPOINT", ""),
        "QLVB_S3_PREFIX": os.environ.get("QLVB_S3_PREFIX", ""),
        "QLVB_S3_REGION": os.environ.get("QLVB_S3_REGION", "us-east-1"),
        "QLVB_S3_ACCESS_KEY": os.environ.get("QLVB_S3_ACCESS_KEY", ""),
        "QLVB_S3_SECRET_KEY": os.environ.get("QLVB_S3_SECRET_KEY", ""),
        # Behind nginx with the local store: downloads answer with X-Accel-Redirect: <this prefix><key>.
        "QLVB_X_ACCEL_REDIRECT": os.environ.get("QLVB_X_ACCEL_REDIRECT", ""),
        "QLVB_DOMAIN_SUFFIX": domain_suffix,
        "QLVB_CENTRAL_HOST": os.environ.get("QLVB_CENTRAL_HOST", f"qlvb.{domain_suffix}"),
        "QLVB_LOCAL_SUFFIX": os.environ.get("QLVB_LOCAL_SUFFIX", "localhost"),
        "QLVB_AGENCIES_DIR": os.environ.get("QLVB_AGENCIES_DIR", str(ROOT / "agencies")),
        "QLVB_PROCESSES_DIR": os.environ.get("QLVB_PROCESSES_DIR", str(ROOT / "processes")),
        "QLVB_FORMS_DIR": os.environ.get("QLVB_FORMS_DIR", str(ROOT / "forms")),
        "QLVB_MAX_UPLOAD_MB": _int("QLVB_MAX_UPLOAD_MB", 50),
        "MAX_CONTENT_LENGTH": _int("QLVB_MAX_UPLOAD_MB", 50) * 1024 * 1024 + 1024 * 1024,
        "QLVB_DEFAULT_LOCALE": os.environ.get("QLVB_DEFAULT_LOCALE", "vi"),
        "QLVB_CELERY_BROKER_URL": os.environ.get("QLVB_CELERY_BROKER_URL", ""),
        # A step that opens writes one row; who is told, and their e-mails, are worked out by a job right after the
        # commit (app/notifications/pending.py). Off: made inside the step's transaction.
        "QLVB_NOTICES_AFTER_COMMIT": _bool("QLVB_NOTICES_AFTER_COMMIT", True),
        "QLVB_CELERY_QUEUE": os.environ.get("QLVB_CELERY_QUEUE", "qlvb"),
        "QLVB_BEAT_INTERVAL": _int("QLVB_BEAT_INTERVAL", 60),  # seconds between two runs of each periodic job
        # Without a broker, a thread of the web process runs the periodic jobs (see app/jobs/embedded.py).
        "QLVB_EMBEDDED_JOBS": _bool("QLVB_EMBEDDED_JOBS", True),
        "QLVB_JOB_INTERVAL": _int("QLVB_JOB_INTERVAL", 60),
        # Province-wide switch read where mail is sent (the delivery job): 0 = cancel queued messages unsent.
        "QLVB_MAIL_ENABLED": _bool("QLVB_MAIL_ENABLED", True),
        # Document axis (app/liaison, app/axis): the external axis this deployment sends to and polls, and the
        # systems it serves when it is the province's hub itself.
        "QLVB_AXIS_URL": os.environ.get("QLVB_AXIS_URL", ""),
        "QLVB_AXIS_SYSTEM_CODE": os.environ.get("QLVB_AXIS_SYSTEM_CODE", ""),
        "QLVB_AXIS_TOKEN": os.environ.get("QLVB_AXIS_TOKEN", ""),
        "QLVB_AXIS_TIMEOUT": _int("QLVB_AXIS_TIMEOUT", 30),
        "QLVB_AXIS_HUB_SYSTEMS": os.environ.get("QLVB_AXIS_HUB_SYSTEMS", ""),
        "QLVB_EXCHANGE_INLINE": _bool("QLVB_EXCHANGE_INLINE", True),
        "QLVB_EXCHANGE_RETRY_BASE": _int("QLVB_EXCHANGE_RETRY_BASE", 30),
        "QLVB_EXCHANGE_RETRY_MAX": _int("QLVB_EXCHANGE_RETRY_MAX", 3600),
        "QLVB_SMTP_HOST": os.environ.get("QLVB_SMTP_HOST", ""),
        "QLVB_SMTP_PORT": _int("QLVB_SMTP_PORT", 25),
        "QLVB_MAIL_FROM": os.environ.get("QLVB_MAIL_FROM", f"qlvb@{domain_suffix}"),
        "QLVB_AUTH": os.environ.get("QLVB_AUTH", "db"),  # db | ldap | ldap_then_db
        # SoICT dashboard: an agency using a mandatory process fewer times in the period is "chưa đạt".
        "QLVB_STATS_MIN_INCOMING": _int("QLVB_STATS_MIN_INCOMING", 1),
        "QLVB_STATS_MIN_OUTGOING": _int("QLVB_STATS_MIN_OUTGOING", 1),
        "QLVB_LDAP_TIMEOUT": _int("QLVB_LDAP_TIMEOUT", 5),
        # Single sign-on with the province's OpenID Connect provider (app/admin/oidc.py): a button beside the
        # password login, shown when the discovery URL and the client id are set.
        "QLVB_OIDC_METADATA_URL": os.environ.get("QLVB_OIDC_METADATA_URL", ""),
        "QLVB_OIDC_CLIENT_ID": os.environ.get("QLVB_OIDC_CLIENT_ID", ""),
        "QLVB_OIDC_CLIENT_SECRET": os.environ.get("QLVB_OIDC_CLIENT_SECRET", ""),
        "QLVB_OIDC_SCOPE": os.environ.get("QLVB_OIDC_SCOPE", "openid email profile"),
        "QLVB_OIDC_LABEL": os.environ.get("QLVB_OIDC_LABEL", ""),
        "QLVB_OIDC_TIMEOUT": _int("QLVB_OIDC_TIMEOUT", 10),
        # Staff import from the directory: which LDAP attribute holds what (app/accounts/directory.py).
        "QLVB_LDAP_ATTR_NAME": os.environ.get("QLVB_LDAP_ATTR_NAME", "displayName,cn"),
        "QLVB_LDAP_ATTR_MAIL": os.environ.get("QLVB_LDAP_ATTR_MAIL", "mail"),
        "QLVB_LDAP_ATTR_DEPARTMENT": os.environ.get("QLVB_LDAP_ATTR_DEPARTMENT", "ou"),
        "QLVB_LDAP_ATTR_TITLE": os.environ.get("QLVB_LDAP_ATTR_TITLE", "title"),
        "QLVB_LDAP_ATTR_PHONE": os.environ.get("QLVB_LDAP_ATTR_PHONE", "telephoneNumber"),
        "QLVB_LDAP_ATTR_USERNAME": os.environ.get("QLVB_LDAP_ATTR_USERNAME", ""),
        "QLVB_LDAP_PERSON_FILTER": os.environ.get("QLVB_LDAP_PERSON_FILTER", "(objectClass=inetOrgPerson)"),
        "QLVB_LDAP_GROUP_FILTER": os.environ.get(
            "QLVB_LDAP_GROUP_FILTER", "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))"),
        # Bulk import of staff (app/accounts/staff_import.py): rows and bytes one file may hold.
        "QLVB_STAFF_IMPORT_MAX_ROWS": _int("QLVB_STAFF_IMPORT_MAX_ROWS", 1000),
        "QLVB_STAFF_IMPORT_MAX_BYTES": _int("QLVB_STAFF_IMPORT_MAX_BYTES", 2 * 1024 * 1024),
        # Password policy of database accounts (app/accounts/policy.py).
        "QLVB_PASSWORD_MIN_LENGTH": _int("QLVB_PASSWORD_MIN_LENGTH", 10),
        "QLVB_PASSWORD_MIN_CLASSES": _int("QLVB_PASSWORD_MIN_CLASSES", 3),
        "QLVB_PASSWORD_HISTORY": _int("QLVB_PASSWORD_HISTORY", 5),
        "QLVB_PASSWORD_MAX_AGE_DAYS": _int("QLVB_PASSWORD_MAX_AGE_DAYS", 90),
        # Sign-in throttling (app/accounts/throttle.py): wrong passwords from unknown browsers per account and
        # per client address before each further attempt waits a doubling delay; never a hard lockout.
        "QLVB_PASSWORD_MAX_FAILURES": _int("QLVB_PASSWORD_MAX_FAILURES", 5),
        "QLVB_LOGIN_ADDRESS_MAX_FAILURES": _int("QLVB_LOGIN_ADDRESS_MAX_FAILURES", 50),
        "QLVB_LOGIN_DELAY_SECONDS": _int("QLVB_LOGIN_DELAY_SECONDS", 2),
        "QLVB_LOGIN_MAX_DELAY_SECONDS": _int("QLVB_LOGIN_MAX_DELAY_SECONDS", 900),
        "QLVB_LOGIN_FORGET_HOURS": _int("QLVB_LOGIN_FORGET_HOURS", 24),
        # Client addresses: how many reverse proxies in front set X-Forwarded-For (0: use the peer address).
        "QLVB_TRUSTED_PROXIES": _int("QLVB_TRUSTED_PROXIES", 0),
        # Server-side sessions (app/accounts/sessions.py): ended after this many idle minutes (0: never).
        "QLVB_SESSION_IDLE_MINUTES": _int("QLVB_SESSION_IDLE_MINUTES", 120),
        # Files the app creates: owner-only (0600 files, 0700 folders).
        "QLVB_UMASK": os.environ.get("QLVB_UMASK", "077"),
        # Login rate limits (Flask-Limiter through FAB): per address+account, and per address.
        "AUTH_RATE_LIMITED": _bool("QLVB_LOGIN_RATE_LIMITED", True),
        # FAB defaults Flask-Limiter to off; the login limits above need it on.
        "RATELIMIT_ENABLED": _bool("QLVB_LOGIN_RATE_LIMITED", True),
        "AUTH_RATE_LIMIT": os.environ.get("QLVB_LOGIN_RATE_LIMIT", "10 per minute"),
        "QLVB_LOGIN_RATE_LIMIT_PER_IP": os.environ.get("QLVB_LOGIN_RATE_LIMIT_PER_IP", "300 per minute"),
        "RATELIMIT_STORAGE_URI": _ratelimit_storage(),
        # Calls a minute per API client (app/api) unless its agency admin set another number for it.
        "QLVB_API_RATE_LIMIT": _int("QLVB_API_RATE_LIMIT", 120),
        # Off: X-RateLimit-* would tell a guesser the limits, and Retry-After would ride on every answer.
        "RATELIMIT_HEADERS_ENABLED": False,
        # Reverse proxies in front of the app (ProxyFix): how many X-Forwarded-For hops to believe; 0 = none.
        # Operations (app/ops): structured logs, Prometheus metrics behind a bearer token (unset = no /metrics).
        "QLVB_LOG_FORMAT": os.environ.get("QLVB_LOG_FORMAT", "text"),
        "QLVB_LOG_LEVEL": os.environ.get("QLVB_LOG_LEVEL", "INFO"),
        "QLVB_METRICS_TOKEN": os.environ.get("QLVB_METRICS_TOKEN", ""),
        "QLVB_BROKER_CHECK_TIMEOUT": _int("QLVB_BROKER_CHECK_TIMEOUT", 5),
        # Security headers (app/web/security_headers.py); HSTS only when served over HTTPS.
        "QLVB_HSTS": _bool("QLVB_HSTS", _bool("QLVB_SECURE_COOKIES", False)),
        "SESSION_COOKIE_SECURE": _bool("QLVB_SECURE_COOKIES", False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("QLVB_SECURE_COOKIES", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": _int("QLVB_SESSION_HOURS", 10) * 3600,
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        # Flask-AppBuilder
        "APP_NAME": "QLVB Vĩnh Phúc",
        "APP_THEME": "",
        "FAB_SECURITY_MANAGER_CLASS": "app.admin.security.QlvbSecurityManager",
        "FAB_BASE_TEMPLATE": "qlvb_base.html",
        "FAB_INDEX_VIEW": "app.web.home.HomeIndexView",
        "FAB_UPDATE_PERMS": _bool("QLVB_FAB_UPDATE_PERMS", True),
        "FAB_CREATE_DB": False,
        "FAB_ADD_SECURITY_API": False,
        # FAB's JSON menu (/api/v1/menu/): our pages draw their menu server-side; no /api/v1 route is served.
        "FAB_ADD_MENU_API": False,
        "FAB_ADD_OPENAPI_VIEWS": False,
        "FAB_API_SWAGGER_UI": False,
        "AUTH_TYPE": 1,  # AUTH_DB; LDAP is switched on by QLVB_AUTH=ldap in create_app
        "AUTH_USER_REGISTRATION": False,
        "AUTH_ROLE_ADMIN": "soict_admin",
        "AUTH_ROLE_PUBLIC": "public",
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_FOLDER": "translations",
        # Only Vietnamese: the pages, forms and documents are written in it (an English entry would change FAB's
        # few strings and nothing else).
        "LANGUAGES": {
            "vi": {"flag": "vn", "name": "Tiếng Việt"},
        },
        "AUTH_LDAP_SERVER": os.environ.get("QLVB_LDAP_SERVER", ""),
        "AUTH_LDAP_SEARCH": os.environ.get("QLVB_LDAP_SEARCH", ""),
        "AUTH_LDAP_UID_FIELD": os.environ.get("QLVB_LDAP_UID_FIELD", "mail"),
        "AUTH_LDAP_BIND_USER": os.environ.get("QLVB_LDAP_BIND_USER", ""),
        "AUTH_LDAP_BIND_PASSWORD": os.environ.get("QLVB_LDAP_BIND_PASSWORD", ""),
        "AUTH_LDAP_FIRSTNAME_FIELD": "givenName",
        "AUTH_LDAP_LASTNAME_FIELD": "sn",
        "AUTH_LDAP_EMAIL_FIELD": "mail",
        "AUTH_LDAP_USE_TLS": _bool("QLVB_LDAP_USE_TLS", False),
        "AUTH_LDAP_SEARCH_FILTER": os.environ.get("QLVB_LDAP_SEARCH_FILTER", ""),
        "AUTH_LDAP_TLS_CACERTFILE": os.environ.get("QLVB_LDAP_CACERTFILE", ""),
        "AUTH_LDAP_TLS_DEMAND": _bool("QLVB_LDAP_USE_TLS", False),
    }
