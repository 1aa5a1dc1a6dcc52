"""Bulk import of staff through the admin pages and the CLI: preview with per-row Vietnamese errors, an
all-or-nothing confirm, stale previews refused, the result file as the one copy of the initial passwords."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, select

from app.accounts import passwords
from app.accounts.models import AccountSecurity, AuditEvent, StaffImport
from app.accounts.policy import PasswordPolicy
from app.extensions import db
from app.tenancy.models import Department, Staff
from tests.support.web import csrf_token

HEADER = "Họ và tên,Thư điện tử,Tên đăng nhập,Phòng ban,Chức vụ,Vai trò,Điện thoại"


def _csv(*lines: str, bom: bool = True) -> bytes:
    return (("\ufeff" if bom else "") + "\n".join([HEADER, *lines]) + "\n").encode("utf-8")


def _xlsx(rows: list[list[Any]], *, header: list[str] | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header or HEADER.split(","))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client: Any, data: bytes, filename: str, **extra: str) -> Any:
    page = client.get("/staffimport/")
    assert page.status_code == 200, page.status_code
    token = csrf_token(page.get_data(as_text=True))
    return client.post("/staffimport/upload", data={"csrf_token": token, "file": (io.BytesIO(data), filename), **extra},
                       content_type="multipart/form-data")


def _preview(client: Any, resp: Any) -> tuple[str, str, str]:
    """(preview page path, its HTML, the confirm token or "")."""
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    path = resp.headers["Location"].replace("http://" + client.host, "")
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="token" value="([0-9a-f]+)"', html)
    return path, html, m.group(1) if m else ""


def _confirm(client: Any, path: str, token: str) -> Any:
    return client.form_post(path + "confirm", {"token": token}, from_page="/staffimport/")


def _users(*emails: str) -> list[User]:
    return list(db.session.scalars(select(User).where(func.lower(User.email).in_([e.lower() for e in emails]))))


@pytest.fixture
def admin(make_agency, make_account, logged_in) -> dict[str, Any]:
    agency = make_agency()
    acc = make_account(agency.code, ["agency_admin"])
    return {"agency": agency, "account": acc, "client": logged_in(acc)}


def _email(agency: Any, local: str) -> str:
    return f"{local}@{agency.code}.vinhphuc.gov.vn"


def test_csv_preview_then_confirm_creates_every_account_with_a_one_time_password(admin, client_for):
    a, c = admin["agency"], admin["client"]
    nfd_name = unicodedata.normalize("NFD", "Trần Thị Ánh")
    data = _csv(f"{nfd_name},{_email(a, 'anh.tt')},,phong nghiep vu,Chuyên viên,,0211 3861 234",
                f"Lê Văn Bình,{_email(a, 'binh.lv')},binhlv,VP,,\"Văn thư, Pháp chế\",")
    path, html, token = _preview(c, _upload(c, data, "danh-sach.csv"))
    assert "Trần Thị Ánh" in html and "Phòng Nghiệp vụ" in html and "Văn thư, Pháp chế" in html
    assert token and "Xác nhận nhập 2 cán bộ" in html
    assert not _users(_email(a, "anh.tt"))  # the preview wrote no account

    resp = _confirm(c, path, token)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    assert resp.mimetype.endswith("spreadsheetml.sheet") and resp.headers["Cache-Control"] == "no-store"
    sheet = openpyxl.load_workbook(io.BytesIO(resp.data)).active
    rows = {r[2]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {_email(a, "anh.tt"), _email(a, "binh.lv")}

    db.session.expire_all()
    anh = db.session.scalar(select(Staff).where(Staff.email == _email(a, "anh.tt")))
    assert anh.full_name == "Trần Thị Ánh" and unicodedata.is_normalized("NFC", anh.full_name)
    assert anh.department.code == "nv" and anh.position.code == "cv" and anh.phone == "0211 3861 234"
    assert {r.name for r in anh.user.roles} == {"specialist"}
    binh = db.session.scalar(select(Staff).where(Staff.email == _email(a, "binh.lv")))
    assert binh.user.username == "binhlv" and {r.name for r in binh.user.roles} == {"clerk", "legal"}
    # The generated password is the account's, must be changed at first login, and is stored only hashed.
    password = rows[_email(a, "binh.lv")][4]
    assert password and password not in (binh.user.password or "")
    assert passwords.password_change_required(binh.user_id, PasswordPolicy())
    login = client_for(admin["account"].host).login("binhlv", password)
    assert login.status_code == 302 and "/login" not in login.headers["Location"]
    imp = db.session.scalar(select(StaffImport).where(StaffImport.agency_id == a.id))
    assert imp.status == "imported" and imp.imported_count == 2 and imp.content is None
    kinds = list(db.session.scalars(select(AuditEvent.kind).where(AuditEvent.agency_id == a.id)))
    assert "staff_imported" in kinds and kinds.count("account_created") == 2
    # The result file comes once: a second confirm of the same preview is refused and creates nothing.
    again = _confirm(c, path, token)
    assert again.status_code == 409
    assert db.session.scalar(select(func.count(Staff.id)).where(Staff.agency_id == a.id)) == 3


def test_xlsx_errors_are_listed_per_row_and_nothing_is_imported(admin, make_account):
    a, c = admin["agency"], admin["client"]
    taken = admin["account"].email
    data = _xlsx([
        ["Nguyễn Văn An", _email(a, "an"), None, "Văn phòng", None, None, None],
        ["Phạm Văn Cường", "abc", None, None, None, None, None],
        ["Đỗ Thị Dung", _email(a, "an"), None, None, None, None, None],
        ["Hoàng Văn Em", taken, None, None, None, None, None],
        ["Vũ Thị Giang", _email(a, "giang"), None, "Phong Nghiep", None, None, None],
        ["Bùi Văn Hải", _email(a, "hai"), None, None, None, "Thủ kho", None],
        ["Ngô Thị Khánh", _email(a, "khanh"), None, None, None, "Lãnh đạo cơ quan", None],
        [None, _email(a, "khong-ten"), None, None, None, None, None],
    ])
    path, html, token = _preview(c, _upload(c, data, "ds.xlsx"))
    assert not token  # no confirm button while any row is in error
    expected = [
        "Dòng 3: thư điện tử “abc” không hợp lệ.",
        f"Dòng 4: thư điện tử “{_email(a, 'an')}” trùng với dòng 2.",
        f"Dòng 5: thư điện tử “{taken}” đã được một tài khoản khác sử dụng.",
        "Dòng 6: không có phòng ban “Phong Nghiep” trong cơ quan; có phải “Phòng Nghiệp vụ”?",
        "Dòng 7: không có vai trò “Thủ kho”",
        "Dòng 8: bạn không được cấp vai trò “Lãnh đạo cơ quan”.",
        "Dòng 9: thiếu họ và tên.",
    ]
    for message in expected:
        assert message in html, message
    assert "Dòng 2:" not in html  # the valid row has no error
    # Even a forged confirm of the preview refuses the whole file.
    preview_token = _token_of(c, path)
    resp = _confirm(c, path, preview_token)
    assert resp.status_code == 422
    assert "không cán bộ nào được nhập" in resp.get_data(as_text=True)
    assert not _users(_email(a, "an"), _email(a, "giang"))


def _token_of(client: Any, path: str) -> str:
    """The preview's token as the service computes it (what a crafted POST could send)."""
    from app.accounts.staff_import import ImportLimits, preview_import
    from app.tenancy import roles as R

    import_id = int(path.rstrip("/").rsplit("/", 1)[1])
    return preview_import(import_id, agency_id=None, grantable=R.AGENCY_GRANTABLE - R.PRIVILEGED,
                          limits=ImportLimits()).token


def test_a_stale_preview_is_refused(admin):
    a, c = admin["agency"], admin["client"]
    data = _csv(f"Trịnh Văn Long,{_email(a, 'long')},,Văn phòng,,,")
    path, _, token = _preview(c, _upload(c, data, "ds.csv"))
    # The org changed after the preview: the admin must look again before anything is written.
    dep = db.session.scalar(select(Department).where(Department.agency_id == a.id, Department.code == "vp"))
    dep.abbreviation = "VPS"
    db.session.commit()
    resp = _confirm(c, path, token)
    assert resp.status_code == 409
    assert "Dữ liệu đã thay đổi kể từ khi xem trước" in resp.get_data(as_text=True)
    assert not _users(_email(a, "long"))
    # A token of another file is stale too.
    other_path, _, other_token = _preview(c, _upload(c, _csv(f"Mai Văn Tú,{_email(a, 'tu')},,,,,"), "khac.csv"))
    assert _confirm(c, path, other_token).status_code == 409
    # Looking again gives a fresh preview that imports.
    html = c.get(path).get_data(as_text=True)
    m = re.search(r'name="token" value="([0-9a-f]+)"', html)
    assert m
    fresh = m.group(1)
    assert fresh != token
    assert _confirm(c, path, fresh).status_code == 200
    assert _confirm(c, other_path, other_token).status_code == 200
    assert len(_users(_email(a, "long"), _email(a, "tu"))) == 2


def test_an_account_taken_after_the_preview_makes_it_stale(admin):
    from app.tenancy.accounts import create_staff_account

    a, c = admin["agency"], admin["client"]
    path, _, token = _preview(c, _upload(c, _csv(f"Đặng Văn Quý,{_email(a, 'quy')},,,,,",
                                                 f"Đặng Thị Hoa,{_email(a, 'hoa')},,,,,"), "ds.csv"))
    create_staff_account(agency_code=a.code, full_name="Đặng Văn Quý", email=_email(a, "quy"), roles=["clerk"],
                         password="Pw@12345678x")
    db.session.commit()
    resp = _confirm(c, path, token)
    assert resp.status_code == 409
    assert f"thư điện tử “{_email(a, 'quy')}” đã được một tài khoản khác sử dụng" in resp.get_data(as_text=True)
    assert not _users(_email(a, "hoa"))


def _macro_xlsx() -> bytes:
    buf = io.BytesIO(_xlsx([["Nguyễn Văn A", "a@x.vn"]]))
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/vbaProject.bin", b"\x00macro")
    return out.getvalue()


@pytest.mark.parametrize(("filename", "data", "message"), [
    ("ds.csv", ("\ufeff" + HEADER + "\nNguyễn Văn Ánh,anh@x.vn,,,,,\n").encode("cp1258", errors="replace"),
     "không dùng bảng mã UTF-8"),
    ("ds.csv", HEADER.encode() + b"\n=HYPERLINK(\"http://x\"),a@x.vn,,,,,\n",
     "Dòng 2, cột “Họ và tên”: ô chứa công thức"),
    ("ds.xlsx", _xlsx([["=CONCAT(\"A\",\"B\")", "a@x.vn"]]), "Dòng 2, cột “Họ và tên”: ô chứa công thức"),
    ("ds.xlsm", _xlsx([["Nguyễn Văn A", "a@x.vn"]]), "macro"),
    ("ds.xlsx", _macro_xlsx(), "Tệp có chứa macro"),
    ("ds.xlsx", b"not a zip", "không phải bảng tính Excel"),
    ("ds.pdf", b"%PDF-1.7", "Chỉ nhận tệp Excel (.xlsx) hoặc CSV"),
    ("ds.csv", "Tên,Email\nA,a@x.vn\n".encode(), "cột “Tên” không thuộc mẫu"),
    ("ds.csv", HEADER.encode() + b"\n", "không có dòng cán bộ nào"),
])
def test_refused_files_store_nothing(admin, filename, data, message):
    c = admin["client"]
    before = db.session.scalar(select(func.count(StaffImport.id)))
    resp = _upload(c, data, filename)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count(StaffImport.id))) == before


def test_row_and_size_limits(admin, app):
    c = admin["client"]
    saved = {k: app.config[k] for k in ("QLVB_STAFF_IMPORT_MAX_ROWS", "QLVB_STAFF_IMPORT_MAX_BYTES")}
    try:
        app.config["QLVB_STAFF_IMPORT_MAX_ROWS"] = 3
        many = _csv(*[f"Người Thứ {i},n{i}@x.vn,,,,," for i in range(4)])
        resp = _upload(c, many, "ds.csv")
        assert resp.status_code == 422 and "Tệp có quá 3 dòng cán bộ" in resp.get_data(as_text=True)
        app.config["QLVB_STAFF_IMPORT_MAX_BYTES"] = 200
        resp = _upload(c, _csv("Nguyễn Văn A,a@x.vn,,,,," + " " * 300), "ds.csv")
        assert resp.status_code == 422 and "Tệp lớn hơn 200 byte" in resp.get_data(as_text=True)
    finally:
        app.config.update(saved)


def test_another_agency_cannot_see_or_confirm_an_import(admin, make_agency, make_account, logged_in):
    a, c = admin["agency"], admin["client"]
    path, _, token = _preview(c, _upload(c, _csv(f"Lý Văn Mạnh,{_email(a, 'manh')},,,,,"), "ds.csv"))
    b = make_agency()
    other = logged_in(make_account(b.code, ["agency_admin"]))
    assert other.get(path).status_code == 404
    assert other.form_post(path + "confirm", {"token": token}, from_page="/staffimport/").status_code == 404
    # An official without the admin role has no import page at all.
    clerk = logged_in(make_account(a.code, ["clerk"]))
    assert clerk.get("/staffimport/").status_code in (302, 403, 404)
    assert not _users(_email(a, "manh"))


def test_soict_imports_into_any_agency_and_may_grant_agency_admin(soict, make_agency, logged_in):
    b = make_agency()
    c = logged_in(soict)
    resp = _upload(c, _csv(f"Cao Văn Nam,{_email(b, 'nam')},,,,Quản trị cơ quan,"), "ds.csv", agency=b.code)
    path, html, token = _preview(c, resp)
    assert token, html
    assert _confirm(c, path, token).status_code == 200
    staff = db.session.scalar(select(Staff).where(Staff.email == _email(b, "nam")))
    assert staff.agency_id == b.id and {r.name for r in staff.user.roles} == {"agency_admin"}
    # Without an agency picked, nothing is read.
    assert _upload(c, _csv("Cao Văn Nam,x@x.vn,,,,,"), "ds.csv").status_code == 404


def test_templates_download_and_read_back(admin):
    c = admin["client"]
    xlsx = c.get("/staffimport/template.xlsx")
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    assert [cell.value for cell in book.worksheets[0][1]] == HEADER.split(",")
    guide = [row[0] for row in book["Hướng dẫn"].iter_rows(values_only=True)]
    assert "Phòng Nghiệp vụ" in guide and "Chuyên viên" in guide
    csv_body = c.get("/staffimport/template.csv").data
    assert csv_body.startswith("\ufeff".encode()) and csv_body.decode("utf-8-sig").strip() == HEADER


def test_cli_dry_run_then_import(app, make_agency, tmp_path: Path):
    a = make_agency()
    src = tmp_path / "ds.xlsx"
    src.write_bytes(_xlsx([["Kiều Thị Loan", _email(a, "loan"), None, "nv", "cv", None, None],
                           ["Kiều Văn Sơn", "sai-dia-chi", None, None, None, None, None]]))
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["qlvb", "staff", "import", "--agency", a.code, str(src), "--dry-run"])
    assert bad.exit_code != 0 and "Dòng 3: thư điện tử “sai-dia-chi” không hợp lệ." in bad.output
    src.write_bytes(_xlsx([["Kiều Thị Loan", _email(a, "loan"), None, "nv", "cv", None, None]]))
    dry = runner.invoke(args=["qlvb", "staff", "import", "--agency", a.code, str(src), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "1 cán bộ" in dry.output and not _users(_email(a, "loan"))
    result = tmp_path / "ket-qua.xlsx"
    done = runner.invoke(args=["qlvb", "staff", "import", "--agency", a.code, str(src), "--result", str(result)])
    assert done.exit_code == 0, done.output
    assert result.stat().st_mode & 0o077 == 0
    row = next(openpyxl.load_workbook(result).active.iter_rows(min_row=2, values_only=True))
    user = _users(_email(a, "loan"))[0]
    assert row[2] == _email(a, "loan") and row[4]
    sec = db.session.get(AccountSecurity, user.id)
    assert sec.must_change_password and not sec.directory_account
