"""Shared fixtures: one migrated database per session (PostgreSQL or SQLite), factories, host clients."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.db import fresh_database_url
from tests.support.web import HostClient


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from app import create_app
    from app.cli.main import run_init

    tmp = tmp_path_factory.mktemp("qlvb")
    with fresh_database_url(tmp) as url:
        application = create_app({
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
            "SECRET_KEY": "test-" + "x" * 40,
            "QLVB_INSTANCE_DIR": str(tmp / "instance"),
            "QLVB_UPLOAD_DIR": str(tmp / "files"),
            # One signing folder and trust-root folder for the session; the `signing` fixture fills them.
            "QLVB_SIGNING_DIR": str(tmp / "signing"),
            "QLVB_TRUST_ROOTS": str(tmp / "trust"),
            "SERVER_NAME": None,
            # Every test signs in from 127.0.0.1: the per-address count would add up across the whole session.
            # The tests of that limit set their own (and use addresses of their own).
            "QLVB_LOGIN_ADDRESS_MAX_FAILURES": 100000,
            # Task-opened notices are made in the step's transaction, so a test sees them at once; the tests of
            # the after-commit path switch it on themselves.
            "QLVB_NOTICES_AFTER_COMMIT": False,
        })
        with application.app_context():
            run_init()
        yield application
        from app.extensions import db

        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@dataclass(frozen=True)
class SigningKit:
    """The session's test PKI and a way to give an agency its seal and a leader a personal certificate."""

    pki: Any
    pin: str
    install_agency: Callable[[str], None]
    install_person: Callable[[str, str, str], None]


@pytest.fixture(scope="session")
def signing(app: Any, tmp_path_factory: pytest.TempPathFactory) -> SigningKit:
    """Real certificates under a test root that every agency of the session trusts (tests/pki.py).

    ``install_agency(code)`` writes the agency's seal certificate; ``install_person(code, email, name)`` a personal
    one issued to that name and e-mail, unlocked by ``pin``."""
    import shutil

    from app.documents import settings
    from tests.pki import issue_personal, make_pki

    work = tmp_path_factory.mktemp("pki")
    pki = make_pki(work)
    keys, trust = Path(app.config["QLVB_SIGNING_DIR"]), Path(app.config["QLVB_TRUST_ROOTS"])
    trust.mkdir(parents=True, exist_ok=True)
    (trust / "root.der").write_bytes(pki.root.cert_der)

    def install_agency(code: str) -> None:
        (keys / code).mkdir(parents=True, exist_ok=True)
        shutil.copy(pki.agency.p12_path, keys / code / "agency.p12")
        app.config[f"QLVB_SIGNING_PASSPHRASE_{settings.env_key(code)}"] = pki.passphrase

    def install_person(code: str, email: str, name: str) -> None:
        (keys / code / "users").mkdir(parents=True, exist_ok=True)
        person = issue_personal(pki, name, email, work, f"p-{secrets.token_hex(4)}")
        shutil.copy(person.p12_path, keys / code / "users" / f"{email.lower()}.p12")

    return SigningKit(pki=pki, pin=pki.passphrase, install_agency=install_agency, install_person=install_person)


@pytest.fixture(autouse=True)
def _app_context(request: pytest.FixtureRequest) -> Iterator[None]:
    """Integration tests run inside an app context; unit tests never touch the app."""
    if "app" not in request.fixturenames and request.node.get_closest_marker("integration") is None:
        yield
        return
    application = request.getfixturevalue("app")
    from app.extensions import db

    with application.app_context():
        yield
        db.session.rollback()
        db.session.remove()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.fspath) or "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    agency_code: str
    host: str
    staff_id: int
    user_id: int


@pytest.fixture
def make_agency(app: Any) -> Callable[..., Any]:
    """Create a fresh agency (unique code) with two departments; returns its AgencyRef."""
    from app.extensions import db
    from app.tenancy.definitions import AgencyDef, DepartmentDef, PositionDef
    from app.tenancy.queries import agency_by_code
    from app.tenancy.services import import_agency

    def factory(code: str | None = None, *, name: str = "Sở Thử nghiệm", abbreviation: str = "STN") -> Any:
        code = code or f"itest{secrets.token_hex(3)}"
        defn = AgencyDef(
            code=code, name=name, short_name=name, abbreviation=abbreviation, governing_body="UBND TỈNH VĨNH PHÚC",
            domain=f"{code}.vinhphuc.gov.vn", org_identifier=None, kind="so", place="Vĩnh Yên", is_central=False,
            numbering_policy="single",
            positions=(PositionDef("truong", "Giám đốc", "leader"), PositionDef("cv", "Chuyên viên", "specialist")),
            departments=(DepartmentDef("vp", "Văn phòng", "VP"), DepartmentDef("nv", "Phòng Nghiệp vụ", "NV")),
        )
        import_agency(defn)
        db.session.commit()
        return agency_by_code(code)

    return factory


@pytest.fixture
def make_account(app: Any) -> Callable[..., Account]:
    """Create a staff account with the given roles in an agency; returns its credentials."""
    from app.extensions import db
    from app.tenancy.accounts import create_staff_account

    def factory(agency_code: str, roles: list[str], *, department_code: str | None = None,
                name: str = "Nguyễn Văn Thử") -> Account:
        email = f"u{secrets.token_hex(4)}@{agency_code}.test.vn"
        password = "Pw@" + secrets.token_hex(8)
        staff = create_staff_account(agency_code=agency_code, full_name=name, email=email, roles=roles,
                                     password=password, department_code=department_code)
        db.session.commit()
        return Account(email, password, agency_code, f"{agency_code}.localhost", staff.id, staff.user_id)

    return factory


@pytest.fixture
def client_for(app: Any) -> Callable[[str], HostClient]:
    def factory(host: str) -> HostClient:
        return HostClient(app, host)

    return factory


@pytest.fixture
def logged_in(client_for: Callable[[str], HostClient]) -> Callable[[Account], HostClient]:
    def factory(account: Account) -> HostClient:
        c = client_for(account.host)
        resp = c.login(account.email, account.password)
        location = resp.headers.get("Location", "")
        assert resp.status_code == 302 and "/login" not in location, resp.get_data(as_text=True)[:500]
        return c

    return factory


ROOT = Path(__file__).resolve().parent.parent
