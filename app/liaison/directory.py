"""The directory of organisations outside this deployment (danh bạ liên thông): imported by SoICT from the list of
mã định danh the national axis publishes (CSV or XLSX), so a clerk picks "Bộ Nội vụ" instead of typing a code.

An import is all or nothing: every row is checked first (the code's format, a name, no code twice in the file) and
one wrong row refuses the whole file with each row's reason; nothing is written until the file is clean. Rows
whose code is one of this deployment's agencies are skipped (those are already in the list). Codes absent from a
new full list are kept but marked inactive, never deleted: documents already sent name them.
"""

from __future__ import annotations

import csv
import io
import logging
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from app.core import clock
from app.core.errors import ValidationError
from app.extensions import db
from app.tenancy.models import Agency

from .models import ExternalOrgan
from .organs import is_organ_id

log = logging.getLogger("qlvb.liaison")

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
MAX_LISTED = 50
HEADERS = {"organ_id": ("mã định danh", "ma dinh danh", "mã", "code"),
           "name": ("tên cơ quan", "ten co quan", "tên", "tên đơn vị", "name"),
           "parent_name": ("cơ quan chủ quản", "co quan chu quan", "đơn vị chủ quản", "parent")}


@dataclass(frozen=True)
class OrganRow:
    line: int
    organ_id: str
    name: str
    parent_name: str | None


@dataclass
class DirectoryImport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    skipped_local: list[str] = field(default_factory=list)


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFC", text).strip().lower()
    return " ".join(folded.split())


def _clean(value: object) -> str:
    return unicodedata.normalize("NFC", "" if value is None else str(value)).strip()


def _table(data: bytes, filename: str) -> list[list[object]]:
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(f"Tệp danh bạ quá lớn ({len(data) // 1024 // 1024} MB, tối đa "
                              f"{MAX_FILE_BYTES // 1024 // 1024} MB).")
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        except Exception as exc:  # a broken or disguised file: openpyxl raises many kinds
            raise ValidationError("Không đọc được tệp Excel danh bạ (tệp hỏng hoặc không phải .xlsx).",
                                  log=f"directory xlsx unreadable: {type(exc).__name__}: {exc}") from exc
        rows: list[list[object]] = []
        for row in book.worksheets[0].iter_rows():
            if len(rows) > MAX_ROWS:
                break
            values = []
            for cell in row:
                if getattr(cell, "data_type", None) == "f":
                    raise ValidationError(f"Ô {cell.coordinate} chứa công thức; danh bạ chỉ nhận giá trị.")
                values.append(cell.value)
            rows.append(values)
        book.close()
        return rows
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError("Tệp CSV danh bạ phải mã hóa UTF-8 (khi lưu từ Excel, chọn «CSV UTF-8»).") from exc
    return [list(r) for r in csv.reader(io.StringIO(text))]


def read_directory(data: bytes, filename: str) -> list[OrganRow]:
    """The rows of a CSV or XLSX list with the columns «Mã định danh», «Tên cơ quan» (and optionally «Cơ quan chủ
    quản»), checked; a ValidationError lists every wrong row."""
    table = [r for r in _table(data, filename) if any(_clean(v) for v in r)]
    if not table:
        raise ValidationError("Tệp danh bạ không có dòng nào.")
    header = [_key(_clean(v)) for v in table[0]]
    columns = {}
    for name, accepted in HEADERS.items():
        for i, title in enumerate(header):
            if title in accepted:
                columns[name] = i
                break
    missing = [label for name, label in (("organ_id", "Mã định danh"), ("name", "Tên cơ quan"))
               if name not in columns]
    if missing:
        raise ValidationError("Dòng tiêu đề của tệp danh bạ thiếu cột: " + ", ".join(f"«{m}»" for m in missing) + ".")
    if len(table) - 1 > MAX_ROWS:
        raise ValidationError(f"Tệp danh bạ có quá {MAX_ROWS} dòng; hãy chia thành nhiều tệp.")
    problems: list[str] = []
    seen: dict[str, int] = {}
    rows: list[OrganRow] = []
    for line, values in enumerate(table[1:], start=2):
        def cell(name: str, values: list[object] = values) -> str:
            i = columns.get(name)
            return _clean(values[i]) if i is not None and i < len(values) else ""

        organ_id, name, parent = cell("organ_id").upper(), cell("name"), cell("parent_name")
        if not is_organ_id(organ_id):
            problems.append(f"Dòng {line}: mã định danh «{organ_id[:40]}» không đúng dạng 000.00.00.H61.")
        elif organ_id in seen:
            problems.append(f"Dòng {line}: mã định danh {organ_id} đã có ở dòng {seen[organ_id]}.")
        if not name:
            problems.append(f"Dòng {line}: thiếu tên cơ quan.")
        elif len(name) > 500 or len(parent) > 500:
            problems.append(f"Dòng {line}: tên dài quá 500 ký tự.")
        seen.setdefault(organ_id, line)
        rows.append(OrganRow(line, organ_id, name[:500], parent[:500] or None))
    if problems:
        shown = problems[:MAX_LISTED] + ([f"… và {len(problems) - MAX_LISTED} lỗi khác"]
                                         if len(problems) > MAX_LISTED else [])
        raise ValidationError(f"Tệp danh bạ có {len(problems)} lỗi; chưa nhập dòng nào.", details=shown,
                              log=f"directory import refused: {len(problems)} problems")
    return rows


def import_directory(rows: Iterable[OrganRow], *, full_list: bool = False) -> DirectoryImport:
    """Add or update each organisation; with ``full_list`` the ones not in the file become inactive. Flushes;
    the caller commits."""
    result = DirectoryImport()
    rows = list(rows)
    local = {a.org_identifier for a in db.session.scalars(select(Agency).where(Agency.org_identifier.is_not(None)))}
    existing = {o.organ_id: o for o in db.session.scalars(select(ExternalOrgan))}
    now = clock.now()
    for row in rows:
        if row.organ_id in local:
            result.skipped_local.append(row.organ_id)
            continue
        organ = existing.get(row.organ_id)
        if organ is None:
            db.session.add(ExternalOrgan(organ_id=row.organ_id, name=row.name, parent_name=row.parent_name,
                                         active=True, updated_at=now))
            result.added += 1
        elif (organ.name, organ.parent_name, organ.active) != (row.name, row.parent_name, True):
            organ.name, organ.parent_name, organ.active, organ.updated_at = row.name, row.parent_name, True, now
            result.updated += 1
        else:
            result.unchanged += 1
    if full_list:
        listed = {r.organ_id for r in rows}
        for organ_id, organ in existing.items():
            if organ_id not in listed and organ.active:
                organ.active, organ.updated_at = False, now
                result.deactivated += 1
    db.session.flush()
    log.info("directory import: %s added, %s updated, %s unchanged, %s deactivated, %s local skipped", result.added,
             result.updated, result.unchanged, result.deactivated, len(result.skipped_local))
    return result


def external_organs() -> list[tuple[str, str]]:
    """(mã định danh, name) of every active organisation of the directory, by name."""
    return [(o.organ_id, o.name) for o in db.session.scalars(
        select(ExternalOrgan).where(ExternalOrgan.active.is_(True)).order_by(ExternalOrgan.name, ExternalOrgan.id))]


def organ_name(organ_id: str) -> str | None:
    """The directory's name for a mã định danh (active or not: documents already sent keep their name)."""
    return db.session.scalar(select(ExternalOrgan.name).where(ExternalOrgan.organ_id == organ_id))
