"""Bulk import of staff: a spreadsheet (XLSX or UTF-8 CSV) or a selection from the LDAP directory.

Two steps. ``start_import`` reads and validates every row and keeps what was uploaded (nothing else is
written); ``confirm_import`` reads it again, refuses if the preview went stale (the rows or the agency's org
changed since), and creates every account in one transaction, or none: any row in error refuses the whole
import. Each new database account gets a generated password that must be changed at first login; the
passwords leave exactly once, in the result file of the confirming response, and are never stored in clear.
Directory accounts get no password to deliver: only the directory's opens them.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import io
import json
import logging
import re
import secrets
import string
import zipfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, or_, select, update

from app.core import clock
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.core.text import fold, nfc
from app.extensions import db
from app.tenancy import roles as R
from app.tenancy.models import Agency, Department, Position, Staff

from .audit import record_event
from .models import StaffImport
from .policy import PasswordPolicy, password_problems
from .services import create_account

log = logging.getLogger("qlvb.staff_import")


class StaffImportFileError(ValidationError):
    """The file itself is refused (type, size, encoding, headers, formulas): nothing was read from it."""

    code = "staff_import_file"


class StaffImportRowsError(ValidationError):
    """At least one row is in error: nothing was imported. ``details`` lists every row's errors."""

    code = "staff_import_rows"


class StaleImportError(ConflictError):
    code = "staff_import_stale"


@dataclass(frozen=True)
class ImportLimits:
    max_rows: int = 1000
    max_bytes: int = 2 * 1024 * 1024

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ImportLimits:
        return cls(max_rows=int(config.get("QLVB_STAFF_IMPORT_MAX_ROWS", cls.max_rows)),
                   max_bytes=int(config.get("QLVB_STAFF_IMPORT_MAX_BYTES", cls.max_bytes)))


# field -> (the template's header, other headers accepted, compared folded: no case, no diacritics)
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "full_name": ("Họ và tên", ("ho ten", "ho va ten can bo")),
    "email": ("Thư điện tử", ("thu dien tu cong vu", "email", "e-mail", "dia chi thu dien tu")),
    "username": ("Tên đăng nhập", ("tai khoan",)),
    "department": ("Phòng ban", ("phong ban, don vi", "don vi", "phong")),
    "position": ("Chức vụ", ()),
    "roles": ("Vai trò", ("vai tro xu ly",)),
    "phone": ("Điện thoại", ("so dien thoai", "dien thoai di dong")),
}
REQUIRED = ("full_name", "email")
DEFAULT_ROLE = R.SPECIALIST
MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlsb", ".xls", ".xla", ".xlam")
_HEADER_INDEX = {fold(label): name for name, (label, _) in COLUMNS.items()} | {
    alias: name for name, (_, aliases) in COLUMNS.items() for alias in aliases}
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")
_PHONE = re.compile(r"^[0-9 +().-]{6,20}$")
# Unpacked size an XLSX of max_bytes may reach (a zip bomb is refused before openpyxl opens it).
_XLSX_EXPANSION = 25


@dataclass(frozen=True)
class RawRow:
    line: int  # the row's number in the spreadsheet (the header is line 1)
    values: dict[str, str]


@dataclass(frozen=True)
class RowPreview:
    line: int
    full_name: str
    email: str
    username: str
    phone: str
    department_id: int | None
    department_name: str
    position_id: int | None
    position_name: str
    roles: tuple[str, ...]
    errors: tuple[str, ...] = ()

    @property
    def role_labels(self) -> str:
        return ", ".join(R.role_label(r) for r in self.roles)


@dataclass(frozen=True)
class ImportPreview:
    import_id: int
    agency_id: int
    agency_name: str
    filename: str
    source: str
    status: str
    rows: tuple[RowPreview, ...]
    token: str

    @property
    def errors(self) -> list[str]:
        return [e for r in self.rows for e in r.errors]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors


@dataclass(frozen=True)
class ImportedAccount:
    line: int
    full_name: str
    email: str
    username: str
    password: str | None  # None: a directory account, opened by the directory's password only


@dataclass(frozen=True)
class ImportResult:
    import_id: int
    agency_name: str
    accounts: tuple[ImportedAccount, ...] = field(default_factory=tuple)


# --- reading files -------------------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d/%m/%Y")
    return nfc(str(value)).strip()


def _columns(header: Sequence[str]) -> dict[int, str]:
    """Header cells -> field per column index; unknown or repeated headers and missing required ones refuse."""
    found: dict[int, str] = {}
    problems = []
    for index, raw in enumerate(header):
        text = _cell_text(raw)
        if not text:
            continue
        name = _HEADER_INDEX.get(fold(text).rstrip(" *:"))
        if name is None:
            problems.append(f"cột “{text}” không thuộc mẫu")
        elif name in found.values():
            problems.append(f"cột “{COLUMNS[name][0]}” xuất hiện hai lần")
        else:
            found[index] = name
    missing = [COLUMNS[n][0] for n in REQUIRED if n not in found.values()]
    if missing:
        problems.append("thiếu cột " + ", ".join(f"“{m}”" for m in missing))
    if problems:
        expected = ", ".join(label for label, _ in COLUMNS.values())
        raise StaffImportFileError("Dòng tiêu đề của tệp không đúng mẫu: " + "; ".join(problems) + ".",
                                   details=[f"Các cột của mẫu: {expected}. Hãy tải tệp mẫu và dùng đúng dòng tiêu đề."])
    return found


def _rows_from_table(table: Iterable[tuple[int, Sequence[Any]]], limits: ImportLimits) -> list[RawRow]:
    """``table``: (line, cells) in order, the header first."""
    rows: list[RawRow] = []
    columns: dict[int, str] | None = None
    for line, cells in table:
        if columns is None:
            if not any(_cell_text(c) for c in cells):
                continue
            columns = _columns(cells)
            continue
        values = {name: _cell_text(cells[i]) if i < len(cells) else "" for i, name in columns.items()}
        if not any(values.values()):
            continue
        if len(rows) >= limits.max_rows:
            raise StaffImportFileError(f"Tệp có quá {limits.max_rows} dòng cán bộ; hãy chia thành nhiều tệp.")
        rows.append(RawRow(line, values))
    if columns is None:
        raise StaffImportFileError("Tệp trống: không có dòng tiêu đề.")
    if not rows:
        raise StaffImportFileError("Tệp không có dòng cán bộ nào dưới dòng tiêu đề.")
    return rows


def _formula_refused(line: int, column: str) -> StaffImportFileError:
    return StaffImportFileError(f"Dòng {line}, cột “{column}”: ô chứa công thức. Tệp có công thức không được nhận; "
                                "hãy dán giá trị (Dán đặc biệt → Giá trị) rồi tải lên lại.")


def _read_csv(data: bytes, limits: ImportLimits) -> list[RawRow]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StaffImportFileError(
            "Tệp CSV không dùng bảng mã UTF-8. Trong Excel hãy chọn Lưu thành → “CSV UTF-8 (Comma delimited)”; "
            "với LibreOffice chọn bộ ký tự Unicode (UTF-8).") from None
    if "\x00" in text:
        raise StaffImportFileError("Tệp CSV chứa ký tự không hợp lệ (NUL): có thể đây không phải tệp văn bản.")
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise StaffImportFileError(f"Tệp CSV sai định dạng: {exc}.") from None
    header_seen = False
    header: list[str] = []
    for line, cells in enumerate(records, start=1):
        if not header_seen and any(c.strip() for c in cells):
            header_seen, header = True, cells
            continue
        for i, cell in enumerate(cells):
            if cell.lstrip().startswith("="):
                name = header[i] if i < len(header) else f"số {i + 1}"
                raise _formula_refused(line, nfc(name).strip())
    return _rows_from_table(enumerate(records, start=1), limits)


def _read_xlsx(data: bytes, limits: ImportLimits) -> list[RawRow]:
    import openpyxl

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise StaffImportFileError("Tệp không phải bảng tính Excel (.xlsx) hợp lệ.") from None
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise StaffImportFileError("Tệp có chứa macro: không được nhận. Hãy lưu thành “Excel Workbook (.xlsx)”.")
    if unpacked > limits.max_bytes * _XLSX_EXPANSION:
        raise StaffImportFileError("Bảng tính quá lớn khi giải nén; hãy chia thành nhiều tệp.")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        log.info("unreadable XLSX refused: %s", exc)
        raise StaffImportFileError("Không đọc được bảng tính: tệp bị hỏng hoặc không phải .xlsx.") from None
    try:
        sheet = book.worksheets[0]
        table: list[tuple[int, list[Any]]] = []
        header: list[str] | None = None
        # Empty rows are skipped but counted: a sheet padded with a million blank rows is refused.
        for line, row in enumerate(sheet.iter_rows(), start=1):
            if line > limits.max_rows * 2 + 100:
                raise StaffImportFileError(f"Tệp có quá {limits.max_rows} dòng cán bộ; hãy chia thành nhiều tệp.")
            cells = []
            for i, cell in enumerate(row):
                if getattr(cell, "data_type", None) == "f":
                    name = header[i] if header and i < len(header) else f"số {i + 1}"
                    raise _formula_refused(line, name)
                cells.append(getattr(cell, "value", None))
            if header is None and any(_cell_text(c) for c in cells):
                header = [_cell_text(c) for c in cells]
            table.append((line, cells))
    finally:
        book.close()
    return _rows_from_table(table, limits)


def read_rows(filename: str, data: bytes, limits: ImportLimits) -> tuple[str, list[RawRow]]:
    """The rows of an uploaded file and its kind ("csv" or "xlsx"); StaffImportFileError if refused."""
    name = (filename or "").strip().lower()
    if not data:
        raise StaffImportFileError("Chưa chọn tệp hoặc tệp trống.")
    if len(data) > limits.max_bytes:
        size = f"{limits.max_bytes // 1024} KB" if limits.max_bytes >= 1024 else f"{limits.max_bytes} byte"
        raise StaffImportFileError(f"Tệp lớn hơn {size}: hãy chia thành nhiều tệp.")
    if name.endswith(MACRO_EXTENSIONS):
        raise StaffImportFileError("Không nhận tệp Excel có macro hoặc định dạng cũ (.xls, .xlsm, .xlsb); hãy lưu "
                                   "thành “Excel Workbook (.xlsx)” hoặc “CSV UTF-8”.")
    if name.endswith(".xlsx"):
        return "xlsx", _read_xlsx(data, limits)
    if name.endswith(".csv") or name.endswith(".txt"):
        if data[:2] == b"PK":
            raise StaffImportFileError("Tệp có đuôi .csv nhưng là bảng tính nén; hãy lưu thành “CSV UTF-8”.")
        return "csv", _read_csv(data, limits)
    raise StaffImportFileError("Chỉ nhận tệp Excel (.xlsx) hoặc CSV (.csv, bảng mã UTF-8).")


# --- validating rows -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Choice:
    id: int
    name: str
    active: bool
    role: str | None = None


def _index(choices: Iterable[_Choice], keys: Any) -> dict[str, list[_Choice]]:
    index: dict[str, list[_Choice]] = {}
    for choice in choices:
        for key in keys(choice):
            if key:
                bucket = index.setdefault(fold(key), [])
                if choice not in bucket:
                    bucket.append(choice)
    return index


def _suggest(value: str, names: Iterable[str]) -> str:
    by_fold = {fold(n): n for n in names}
    close = difflib.get_close_matches(fold(value), list(by_fold), n=3, cutoff=0.6)
    if not close:
        return ""
    return "; có phải " + " hoặc ".join(f"“{by_fold[c]}”" for c in close) + "?"


def _match(value: str, index: dict[str, list[_Choice]], names: list[str], what: str,
           line: int) -> tuple[_Choice | None, str | None]:
    found = index.get(fold(value), [])
    if not found:
        return None, f"Dòng {line}: không có {what} “{value}” trong cơ quan{_suggest(value, names) or '.'}"
    if len(found) > 1:
        return None, (f"Dòng {line}: {what} “{value}” trùng tên với nhiều {what}: "
                      + ", ".join(f"“{c.name}”" for c in found) + "; hãy ghi mã hoặc tên viết tắt.")
    if not found[0].active:
        return None, f"Dòng {line}: {what} “{found[0].name}” đã ngừng hoạt động."
    return found[0], None


def existing_names(names: Collection[str]) -> set[str]:
    """Which of these e-mails/usernames an account (or a staff profile) already uses, compared lower-case."""
    taken: set[str] = set()
    wanted = sorted(names)
    for start in range(0, len(wanted), 400):  # SQLite's bound-parameter limit
        chunk = wanted[start:start + 400]
        for username, email in db.session.execute(select(func.lower(User.username), func.lower(User.email)).where(
                or_(func.lower(User.username).in_(chunk), func.lower(User.email).in_(chunk)))):
            taken.update(v for v in (username, email) if v)
        taken.update(db.session.scalars(select(func.lower(Staff.email)).where(func.lower(Staff.email).in_(chunk))))
    return taken & set(names)


def _email_problem(email: str) -> str | None:
    if len(email) > 255:
        return "quá dài"
    try:
        validate_email(email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return "không hợp lệ"
    return None


def validate_rows(agency_id: int, raw: Sequence[RawRow], grantable: Collection[str]) -> list[RowPreview]:
    """Every row parsed and checked against the file itself and the database; errors in Vietnamese, by line."""
    departments = [_Choice(d.id, d.name, d.active) for d in db.session.scalars(
        select(Department).where(Department.agency_id == agency_id).order_by(Department.sort_order, Department.id))]
    dep_rows = {d.id: d for d in db.session.scalars(select(Department).where(Department.agency_id == agency_id))}
    dep_index = _index(departments, lambda c: (c.name, dep_rows[c.id].code, dep_rows[c.id].abbreviation))
    pos_rows = {p.id: p for p in db.session.scalars(select(Position).where(Position.agency_id == agency_id))}
    positions = [_Choice(p.id, p.name, True, p.role) for p in pos_rows.values()]
    pos_index = _index(positions, lambda c: (c.name, pos_rows[c.id].code))
    role_index = {fold(label): code for code, label in R.ROLE_LABELS.items()} | {code: code for code in R.ALL_ROLES}
    dep_names = [d.name for d in departments if d.active]
    pos_names = [p.name for p in positions]

    parsed: list[dict[str, Any]] = []
    for row in raw:
        v, errors, line = row.values, [], row.line
        full_name = " ".join(nfc(v.get("full_name", "")).split())
        email = nfc(v.get("email", "")).strip().lower()
        username = nfc(v.get("username", "")).strip().lower() or email
        phone = v.get("phone", "").strip()
        if not full_name:
            errors.append(f"Dòng {line}: thiếu họ và tên.")
        elif len(full_name) > 255 or not any(ch.isalpha() for ch in full_name):
            errors.append(f"Dòng {line}: họ và tên “{full_name[:80]}” không hợp lệ.")
        if not email:
            errors.append(f"Dòng {line}: thiếu thư điện tử.")
        elif (problem := _email_problem(email)) is not None:
            errors.append(f"Dòng {line}: thư điện tử “{email[:120]}” {problem}.")
        if username != email and not _USERNAME.match(username):
            errors.append(f"Dòng {line}: tên đăng nhập “{username[:80]}” không hợp lệ (3–64 ký tự: chữ không dấu, "
                          "chữ số, dấu chấm, gạch ngang, gạch dưới).")
        if phone and not _PHONE.match(phone):
            errors.append(f"Dòng {line}: số điện thoại “{phone[:40]}” không hợp lệ.")
        department = position = None
        if v.get("department"):
            department, problem = _match(v["department"], dep_index, dep_names, "phòng ban", line)
            errors.extend([problem] if problem else [])
        if v.get("position"):
            position, problem = _match(v["position"], pos_index, pos_names, "chức vụ", line)
            errors.extend([problem] if problem else [])
        roles: list[str] = []
        for item in re.split(r"[,;\n]", v.get("roles", "")):
            if not item.strip():
                continue
            code = role_index.get(fold(item))
            if code is None:
                labels = [R.ROLE_LABELS[c] for c in sorted(grantable) if c in R.ROLE_LABELS]
                errors.append(f"Dòng {line}: không có vai trò “{item.strip()}”{_suggest(item, labels) or '.'}")
            elif code not in roles:
                roles.append(code)
        if not roles and not (position and position.role):
            roles.append(DEFAULT_ROLE)
        for code in roles:
            if code not in grantable:
                errors.append(f"Dòng {line}: bạn không được cấp vai trò “{R.role_label(code)}”.")
        if position and position.role and position.role not in grantable:
            errors.append(f"Dòng {line}: chức vụ “{position.name}” kèm vai trò “{R.role_label(position.role)}” "
                          "mà bạn không được cấp.")
        parsed.append({"line": line, "full_name": full_name, "email": email, "username": username, "phone": phone,
                       "department": department, "position": position, "roles": tuple(roles), "errors": errors})

    # The same e-mail or login name twice in the file, or already used by an account.
    first_seen: dict[str, int] = {}
    for p in parsed:
        for what, value in (("thư điện tử", p["email"]), ("tên đăng nhập", p["username"])):
            if not value or (what == "tên đăng nhập" and value == p["email"]):
                continue
            if value in first_seen and first_seen[value] != p["line"]:
                p["errors"].append(f"Dòng {p['line']}: {what} “{value}” trùng với dòng {first_seen[value]}.")
            else:
                first_seen.setdefault(value, p["line"])
    taken = existing_names({n for p in parsed for n in (p["email"], p["username"]) if n})
    for p in parsed:
        for what, value in (("thư điện tử", p["email"]), ("tên đăng nhập", p["username"])):
            if value in taken and not (what == "tên đăng nhập" and value == p["email"]):
                p["errors"].append(f"Dòng {p['line']}: {what} “{value}” đã được một tài khoản khác sử dụng.")

    return [RowPreview(line=p["line"], full_name=p["full_name"], email=p["email"], username=p["username"],
                       phone=p["phone"], department_id=p["department"].id if p["department"] else None,
                       department_name=p["department"].name if p["department"] else "",
                       position_id=p["position"].id if p["position"] else None,
                       position_name=p["position"].name if p["position"] else "", roles=p["roles"],
                       errors=tuple(p["errors"])) for p in parsed]


def _org_state(agency_id: int) -> list[Any]:
    """What a preview's meaning depends on besides its rows: the agency's departments and positions."""
    deps = db.session.execute(select(Department.id, Department.code, Department.name, Department.abbreviation,
                                     Department.active).where(Department.agency_id == agency_id)
                              .order_by(Department.id)).all()
    poss = db.session.execute(select(Position.id, Position.code, Position.name, Position.role)
                              .where(Position.agency_id == agency_id).order_by(Position.id)).all()
    return [[list(r) for r in deps], [list(r) for r in poss]]


def _token(content_sha: str, agency_id: int, rows: Sequence[RowPreview]) -> str:
    payload = json.dumps([content_sha, agency_id, [asdict(r) for r in rows], _org_state(agency_id)],
                         ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


# --- the two steps -------------------------------------------------------------------------------------------


def _raw_of(item: StaffImport, limits: ImportLimits) -> list[RawRow]:
    if item.content is None:
        raise ConflictError("Lượt nhập này đã hoàn tất; tệp không còn được lưu.")
    if item.source == "directory":
        return [RawRow(int(r["line"]), {k: str(v) for k, v in r["values"].items()})
                for r in json.loads(item.content.decode())]
    return read_rows(item.filename, item.content, limits)[1]


def _load(import_id: int, agency_id: int | None) -> StaffImport:
    item = db.session.get(StaffImport, import_id)
    if item is None or (agency_id is not None and item.agency_id != agency_id):
        # Another agency's import is "not found", never "forbidden".
        raise NotFoundError("Không tìm thấy lượt nhập cán bộ này.")
    return item


def _preview(item: StaffImport, grantable: Collection[str], limits: ImportLimits) -> ImportPreview:
    agency = db.session.get(Agency, item.agency_id)
    rows = tuple(validate_rows(item.agency_id, _raw_of(item, limits), grantable)) if item.content is not None else ()
    return ImportPreview(import_id=item.id, agency_id=item.agency_id, agency_name=agency.name if agency else "",
                         filename=item.filename, source=item.source, status=item.status, rows=rows,
                         token=_token(item.content_sha256, item.agency_id, rows))


def start_import(*, agency_id: int, filename: str, data: bytes, grantable: Collection[str], limits: ImportLimits,
                 acting_user_id: int | None) -> ImportPreview:
    """Step 1 for a file: read and validate every row, keep the file for the confirm. A refused file keeps nothing."""
    agency = db.session.get(Agency, agency_id)
    if agency is None or agency.is_central:
        raise NotFoundError("Không tìm thấy cơ quan.")
    kind, _ = read_rows(filename, data, limits)
    return _store(agency_id, kind, nfc(filename or "").strip()[:255] or "tep-nhap", data, grantable, limits,
                  acting_user_id)


def _store(agency_id: int, source: str, filename: str, content: bytes, grantable: Collection[str],
           limits: ImportLimits, acting_user_id: int | None) -> ImportPreview:
    item = StaffImport(agency_id=agency_id, created_by_id=acting_user_id, created_at=clock.now(), source=source,
                       filename=filename, content_sha256=hashlib.sha256(content).hexdigest(), content=content,
                       status="previewed", imported_count=0)
    db.session.add(item)
    db.session.flush()
    preview = _preview(item, grantable, limits)
    record_event("staff_import_previewed", agency_id=agency_id, target_type="staff_import", target_id=item.id,
                 message=filename, detail={"source": source, "rows": len(preview.rows),
                                           "rows_in_error": sum(1 for r in preview.rows if r.errors)})
    return preview


def start_directory_import(*, agency_id: int, people: Sequence[Mapping[str, str]], label: str,
                           grantable: Collection[str], limits: ImportLimits,
                           acting_user_id: int | None) -> ImportPreview:
    """Step 1 for people chosen from the directory: ``people`` carry the same fields as a file's columns."""
    agency = db.session.get(Agency, agency_id)
    if agency is None or agency.is_central:
        raise NotFoundError("Không tìm thấy cơ quan.")
    if not people:
        raise ValidationError("Chưa chọn người nào trong thư mục.")
    if len(people) > limits.max_rows:
        raise ValidationError(f"Chọn quá {limits.max_rows} người; hãy nhập thành nhiều lượt.")
    rows = [{"line": i, "values": {k: nfc(str(v)) for k, v in p.items() if k in COLUMNS}}
            for i, p in enumerate(people, start=1)]
    content = json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()
    return _store(agency_id, "directory", label[:255], content, grantable, limits, acting_user_id)


def preview_import(import_id: int, *, agency_id: int | None, grantable: Collection[str],
                   limits: ImportLimits) -> ImportPreview:
    """The preview as it stands now (``agency_id``: the viewer's agency; None for SoICT)."""
    return _preview(_load(import_id, agency_id), grantable, limits)


def generate_password(policy: PasswordPolicy, *, email: str, full_name: str) -> str:
    """A random initial password of 16 characters meeting the policy (and never containing the name)."""
    alphabet = string.ascii_letters + string.digits + "-_.!@#%+="
    length = max(16, policy.min_length)
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if candidate[0] not in "=+-@" and not password_problems(candidate, policy, email=email, full_name=full_name):
            return candidate


def confirm_import(import_id: int, *, agency_id: int | None, token: str, grantable: Collection[str],
                   policy: PasswordPolicy, limits: ImportLimits, acting_user_id: int | None) -> ImportResult:
    """Step 2: every account of the preview, in this one transaction, or nothing. Flushes; the caller commits."""
    item = _load(import_id, agency_id)
    if item.status != "previewed":
        raise ConflictError("Lượt nhập này đã được thực hiện trước đó; không nhập lại.")
    preview = _preview(item, grantable, limits)
    if not secrets.compare_digest(preview.token, token or ""):
        log.info("staff import %s refused: preview stale", import_id)
        raise StaleImportError("Dữ liệu đã thay đổi kể từ khi xem trước (tệp, danh sách phòng ban, chức vụ hoặc "
                               "tài khoản đã có); hãy xem lại bản xem trước rồi xác nhận.",
                               details=preview.errors[:50])
    if not preview.ok:
        raise StaffImportRowsError(f"Có {len(preview.errors)} lỗi trong tệp; không cán bộ nào được nhập.",
                                   details=preview.errors)
    # Compare-and-set: of two confirms of one preview racing, the second waits on this row and then finds it taken.
    claimed = db.session.execute(update(StaffImport).where(StaffImport.id == item.id,
                                                           StaffImport.status == "previewed")
                                 .values(status="importing").execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise ConflictError("Lượt nhập này đã được thực hiện trước đó; không nhập lại.")
    directory = item.source == "directory"
    created: list[ImportedAccount] = []
    # One transaction: the caller commits once after this returns, or rolls back on any error (nothing stays).
    for row in preview.rows:
        password = generate_password(policy, email=row.email, full_name=row.full_name)
        create_account(agency_id=item.agency_id, full_name=row.full_name, email=row.email, roles=row.roles,
                       password=password, grantable=grantable, policy=policy, department_id=row.department_id,
                       position_id=row.position_id, phone=row.phone or None, acting_user_id=acting_user_id,
                       username=row.username, generated_password=True, directory_account=directory)
        created.append(ImportedAccount(row.line, row.full_name, row.email, row.username,
                                       None if directory else password))
    item.status = "imported"
    item.imported_at = clock.now()
    item.imported_count = len(created)
    item.content = None  # the people's data now lives in their accounts; the upload is not kept
    record_event("staff_imported", agency_id=item.agency_id, target_type="staff_import", target_id=item.id,
                 message=item.filename, detail={"source": item.source, "accounts": len(created)})
    log.info("staff import %s: %d accounts created in agency %s", item.id, len(created), item.agency_id)
    return ImportResult(item.id, preview.agency_name, tuple(created))


# --- files for the admin -------------------------------------------------------------------------------------


def _sheet_header(sheet: Any, labels: Sequence[str]) -> None:
    from openpyxl.styles import Font

    sheet.append(list(labels))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i, label in enumerate(labels):
        sheet.column_dimensions[chr(ord("A") + i)].width = max(14, len(label) + 6)


def _text_cell(value: str) -> str:
    # openpyxl writes a string that starts with "=" as a formula; nothing we write may become one.
    return "'" + value if value.startswith("=") else value


def template_xlsx(agency_id: int, grantable: Collection[str]) -> bytes:
    """The template: the header row on the first sheet, and a guide sheet listing the agency's names."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Cán bộ"
    _sheet_header(sheet, [label for label, _ in COLUMNS.values()])
    guide = book.create_sheet("Hướng dẫn")
    guide.column_dimensions["A"].width = 40
    guide.column_dimensions["B"].width = 60
    lines = [
        ("Cột", "Cách ghi"),
        ("Họ và tên", "Bắt buộc. Ghi đủ họ, tên đệm, tên, có dấu."),
        ("Thư điện tử", "Bắt buộc. Thư điện tử công vụ; dùng để đăng nhập; không trùng với tài khoản đã có."),
        ("Tên đăng nhập", "Không bắt buộc. Để trống thì đăng nhập bằng thư điện tử."),
        ("Phòng ban", "Tên, tên viết tắt hoặc mã phòng ban (không phân biệt hoa thường, có dấu hay không)."),
        ("Chức vụ", "Tên hoặc mã chức vụ; chức vụ kèm vai trò xử lý thì vai trò đó được cấp theo."),
        ("Vai trò", "Một hoặc nhiều vai trò, cách nhau bằng dấu phẩy. Để trống: “Chuyên viên”."),
        ("Điện thoại", "Không bắt buộc."),
        ("", ""),
        ("Chỉ đọc trang đầu tiên. Không dùng công thức, không dùng tệp có macro.", ""),
        ("", ""),
        ("Phòng ban của cơ quan", "Mã"),
    ]
    lines += [(d.name, d.code) for d in db.session.scalars(
        select(Department).where(Department.agency_id == agency_id, Department.active)
        .order_by(Department.sort_order, Department.id))]
    lines += [("", ""), ("Chức vụ", "Vai trò kèm theo")]
    lines += [(p.name, R.role_label(p.role) if p.role else "") for p in db.session.scalars(
        select(Position).where(Position.agency_id == agency_id).order_by(Position.sort_order, Position.id))]
    lines += [("", ""), ("Vai trò bạn được cấp", "")]
    lines += [(R.role_label(code), "") for code in sorted(grantable) if code in R.ROLE_LABELS]
    for a, b in lines:
        guide.append([_text_cell(a), _text_cell(b)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_csv() -> bytes:
    """The template's header row as UTF-8 CSV with a BOM (Excel then reads the diacritics right)."""
    buf = io.StringIO()
    csv.writer(buf).writerow([label for label, _ in COLUMNS.values()])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def result_xlsx(result: ImportResult) -> bytes:
    """The one copy of the initial passwords: handed to the admin once, never stored by the system."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Tài khoản đã tạo"
    _sheet_header(sheet, ["Dòng", "Họ và tên", "Thư điện tử", "Tên đăng nhập", "Mật khẩu ban đầu", "Ghi chú"])
    for acc in result.accounts:
        note = ("Đăng nhập bằng mật khẩu của thư mục (LDAP)." if acc.password is None
                else "Phải đổi mật khẩu ở lần đăng nhập đầu tiên.")
        sheet.append([acc.line, _text_cell(acc.full_name), acc.email, acc.username, acc.password or "", note])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
