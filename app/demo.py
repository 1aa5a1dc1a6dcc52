"""Demo data for `make run`: a few officials per role in three agencies, with printed passwords."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from flask import current_app

from app.tenancy import roles as R
from app.tenancy.accounts import create_staff_account, staff_by_email
from app.tenancy.queries import agency_by_code


@dataclass(frozen=True)
class DemoAccount:
    host: str
    email: str
    password: str
    role_label: str
    pin: str | None = None  # of the personal certificate (leaders) or the agency's seal key (clerks)


# (agency, local part, full name, roles, department, position)
DEMO_STAFF = [
    ("qlvb", "quantri", "Nguyễn Quản Trị", [R.SOICT_ADMIN], "tthtt", None),
    ("isotttt", "quantri.stttt", "Lê Minh Quân", [R.AGENCY_ADMIN], "vp", "quan_tri"),
    ("isotttt", "vanthu.stttt", "Trần Thị Thu", [R.CLERK], "vp", "van_thu"),
    ("isotttt", "giamdoc.stttt", "Phạm Văn Đức", [R.LEADER], None, "truong"),
    ("isotttt", "phogiamdoc.stttt", "Hoàng Thị Hương", [R.LEADER], None, "pho"),
    ("isotttt", "tp.cntt.stttt", "Vũ Đình Khải", [R.HEAD], "cntt", "truong_phong"),
    ("isotttt", "cv1.cntt.stttt", "Đỗ Thị Lan", [R.SPECIALIST], "cntt", "chuyen_vien"),
    ("isotttt", "cv2.cntt.stttt", "Ngô Quốc Việt", [R.SPECIALIST], "cntt", "chuyen_vien"),
    ("isotttt", "tp.bcvt.stttt", "Bùi Thanh Sơn", [R.HEAD], "bcvt", "truong_phong"),
    ("isotttt", "cv.bcvt.stttt", "Đặng Mỹ Linh", [R.SPECIALIST], "bcvt", "chuyen_vien"),
    ("isotp", "quantri.stp", "Cao Văn Tùng", [R.AGENCY_ADMIN], "vp", "quan_tri"),
    ("isotp", "vanthu.stp", "Lý Thị Ngọc", [R.CLERK], "vp", "van_thu"),
    ("isotp", "giamdoc.stp", "Trịnh Xuân Bách", [R.LEADER], None, "truong"),
    ("isotp", "tp.xdktvb.stp", "Phan Thị Hạnh", [R.HEAD], "xd-ktvb", "truong_phong"),
    ("isotp", "cv.xdktvb.stp", "Mai Đức Anh", [R.SPECIALIST], "xd-ktvb", "chuyen_vien"),
    ("isotp", "phapche.stp", "Tạ Thu Trang", [R.LEGAL], "xd-ktvb", "phap_che"),
    ("iyenlac", "vanthu.yenlac", "Kiều Thị Hoa", [R.CLERK], "vp", "van_thu"),
    ("iyenlac", "chutich.yenlac", "Nguyễn Văn Hùng", [R.LEADER], None, "chu_tich"),
    ("iyenlac", "tp.nv.yenlac", "Lương Văn Tâm", [R.HEAD], "nv", "truong_phong"),
    ("iyenlac", "cv.nv.yenlac", "Dương Thị Mai", [R.SPECIALIST], "nv", "chuyen_vien"),
]


def _password_book() -> Path:
    return Path(current_app.config["QLVB_INSTANCE_DIR"]) / "demo_accounts.txt"


def seed_demo() -> list[DemoAccount]:
    book = _password_book()
    known: dict[str, str] = {}
    if book.exists():
        for line in book.read_text(encoding="utf-8").splitlines():
            email, _, pw = line.partition(" ")
            known[email] = pw
    out = []
    local = current_app.config["QLVB_LOCAL_SUFFIX"]
    for code, local_part, name, roles, dept, pos in DEMO_STAFF:
        agency = agency_by_code(code)
        if agency is None:
            continue
        email = f"{local_part}@vinhphuc.gov.vn"
        password = known.get(email) or ("Vp@" + secrets.token_urlsafe(9))
        if staff_by_email(email) is None:
            create_staff_account(agency_code=code, full_name=name, email=email, roles=roles, password=password,
                                 department_code=dept, position_code=pos)
        known[email] = password
        out.append(DemoAccount(host=f"{code}.{local}", email=email, password=password,
                               role_label=", ".join(R.role_label(r) for r in roles)))
    pins = seed_signing([(code, f"{local_part}@vinhphuc.gov.vn", name, roles)
                         for code, local_part, name, roles, _d, _p in DEMO_STAFF if agency_by_code(code)])
    out = [replace(a, pin=pins.get(a.email)) for a in out]
    _seed_documents()
    book.parent.mkdir(parents=True, exist_ok=True)
    book.write_text("".join(f"{e} {p}\n" for e, p in known.items()), encoding="utf-8")
    book.chmod(0o600)
    return out


def _pin_book() -> Path:
    return Path(current_app.config["QLVB_INSTANCE_DIR"]) / "demo_pins.txt"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_bytes(data)
    path.chmod(0o600)


def seed_signing(staff: list[tuple[str, str, str, list[str]]]) -> dict[str, str]:
    """Signing that works out of the box: a demo root this installation trusts, a personal certificate for
    each demo leader and a seal key per agency, each under its own PIN (printed, and kept in
    instance/demo_pins.txt). Idempotent: existing keys and PINs are kept."""
    from app.documents import settings
    from app.signing.issuing import AuthorityInfo, issue_pkcs12, make_authority

    keys, trust = settings.signing_dir(), settings.trust_roots_dir()
    ca_dir = keys / "demo-ca"
    if (ca_dir / "ca.key.pem").is_file():
        authority = AuthorityInfo((ca_dir / "ca.key.pem").read_bytes(), (ca_dir / "ca.pem").read_bytes())
    else:
        authority = make_authority("QLVB Demo Root CA (không dùng cho văn bản thật)", "QLVB Vĩnh Phúc – dùng thử")
        _write_private(ca_dir / "ca.key.pem", authority.key_pem)
        _write_private(ca_dir / "ca.pem", authority.cert_pem)
    trust.mkdir(parents=True, exist_ok=True)
    (trust / "qlvb-demo-root.der").write_bytes(authority.cert_der)

    pins: dict[str, str] = {}
    book = _pin_book()
    if book.exists():
        for line in book.read_text(encoding="utf-8").splitlines():
            who, _, pin = line.partition(" ")
            pins[who] = pin
    for code, email, name, roles in staff:
        agency = agency_by_code(code)
        if agency is None:
            continue
        if R.LEADER in roles:
            path = keys / code / "users" / f"{email.lower()}.p12"
            if not path.is_file() or email not in pins:
                pins[email] = f"{secrets.randbelow(10**6):06d}"
                _write_private(path, issue_pkcs12(authority, common_name=name, email=email,
                                                  organisation=agency.name, pin=pins[email]))
        if R.CLERK in roles:
            path, seal = keys / code / "agency.p12", f"seal:{code}"
            if not path.is_file() or seal not in pins:
                pins[seal] = f"{secrets.randbelow(10**6):06d}"
                _write_private(path, issue_pkcs12(authority, common_name=agency.name, organisation=agency.name,
                                                  pin=pins[seal]))
            pins[email] = pins[seal]
    _write_private(book, "".join(f"{k} {v}\n" for k, v in pins.items()).encode())
    return pins


DEMO_INCOMING = [
    {"doc_type": "cong_van", "number_notation": "1520/UBND-VX", "issuer_name": "UBND tỉnh Vĩnh Phúc",
     "summary": "Về việc triển khai Kế hoạch chuyển đổi số năm 2027", "urgency": "thuong"},
    {"doc_type": "quyet_dinh", "number_notation": "2301/QĐ-UBND", "issuer_name": "UBND tỉnh Vĩnh Phúc",
     "summary": "Quyết định phê duyệt danh mục dịch vụ công trực tuyến toàn trình", "urgency": "khan"},
    {"doc_type": "giay_moi", "number_notation": "45/GM-STC", "issuer_name": "Sở Tài chính",
     "summary": "Mời dự họp thẩm định dự toán kinh phí ứng dụng công nghệ thông tin", "urgency": "hoa_toc"},
]


def _seed_documents() -> None:
    """A few registered incoming documents in Sở TTTT so the leader's inbox is not empty on first look."""
    from app.documents import queries as dq
    from app.documents import services as ds
    from app.workflow.info import ActorRef

    clerk = staff_by_email("vanthu.stttt@vinhphuc.gov.vn")
    if clerk is None:
        return
    actor = ActorRef(user_id=clerk.user_id, agency_id=clerk.agency_id, roles=frozenset({R.CLERK}),
                     department_id=clerk.department_id)
    if dq.list_documents(clerk.agency_id, direction="incoming", actor=actor, limit=1).total:
        return
    from app.core import clock

    for item in DEMO_INCOMING:
        ds.register_incoming(clerk.agency_id, actor=actor, data={
            **item, "issue_date": clock.today().isoformat(), "confidentiality": "thuong", "channel": "electronic",
            "pages": 2})
