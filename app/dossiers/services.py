"""Changes to dossiers: open, edit, close, reopen, record the deposit, file and order documents.

Services validate, act and flush; the caller (request or job) commits.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, or_, select

from app.core import clock
from app.core.text import nfc
from app.documents import queries as documents_queries
from app.extensions import db
from app.tenancy.models import Department, Staff
from app.tenancy.queries import staff_of
from app.tenancy.roles import CLERK
from app.workflow.info import ActorRef

from .access import MANAGE_ALL_ROLES, can_manage
from .errors import DossierNotFoundError, DossierPermissionError, DossierStateError, DossierValidationError
from .info import DepositReminderInfo, DossierInfo
from .models import ACCESS_LEVELS, RETENTIONS, Dossier, DossierDocument
from .queries import (
    DEPOSIT_REMINDER_DAYS,
    DEPOSIT_WITHIN_YEARS,
    add_years,
    deposit_due_info,
    get_dossier,
    last_closing_overdue,
)

MAX_CODE = 20
MAX_TITLE = 500
REMINDER_BATCH = 500


def _load(actor: ActorRef, dossier_id: int, *, manage: bool = True) -> Dossier:
    get_dossier(actor, dossier_id)  # not found unless visible
    dossier = db.session.get(Dossier, dossier_id)
    if dossier is None:
        raise DossierNotFoundError("Không tìm thấy hồ sơ.")
    if manage:
        responsible = db.session.get(Staff, dossier.responsible_staff_id)
        if not can_manage(dossier, actor, responsible.user_id if responsible else None):
            raise DossierPermissionError(
                "Chỉ người lập hồ sơ hoặc văn thư cơ quan được thay đổi hồ sơ này.")
    return dossier


def _clean(value: str | None) -> str:
    return " ".join(nfc(value or "").split())


def _next_code(agency_id: int, year: int, department: Department | None) -> str:
    count = db.session.scalar(select(func.count()).select_from(Dossier).where(
        Dossier.agency_id == agency_id, Dossier.year == year)) or 0
    suffix = (department.abbreviation or department.code).upper() if department else "HS"
    n = count + 1
    while True:
        code = f"{n:02d}.{suffix}"[:MAX_CODE]
        taken = db.session.scalar(select(Dossier.id).where(
            Dossier.agency_id == agency_id, Dossier.year == year, Dossier.code == code))
        if taken is None:
            return code
        n += 1


def create_dossier(
    actor: ActorRef,
    *,
    title: str,
    retention: str,
    year: int | None = None,
    code: str | None = None,
    access: str = "noi_bo",
    department_id: int | None = None,
    responsible_staff_id: int | None = None,
    opened_on: dt.date | None = None,
    note: str = "",
) -> DossierInfo:
    """Open a dossier in the agency's list; without a code the next "NN.<unit>" code of the year is given."""
    today = clock.today()
    year = year or today.year
    errors: dict[str, list[str]] = {}
    title = _clean(title)
    code = _clean(code).upper() if code else None
    if not title:
        errors["title"] = ["Hãy nhập tiêu đề hồ sơ."]
    elif len(title) > MAX_TITLE:
        errors["title"] = [f"Tiêu đề hồ sơ tối đa {MAX_TITLE} ký tự."]
    if retention not in RETENTIONS:
        errors["retention"] = ["Hãy chọn thời hạn bảo quản."]
    if access not in ACCESS_LEVELS:
        errors["access"] = ["Chế độ sử dụng không hợp lệ."]
    if code is not None and (len(code) > MAX_CODE or "/" in code):
        errors["code"] = [f"Ký hiệu hồ sơ tối đa {MAX_CODE} ký tự, không chứa dấu “/”."]
    if not 2000 <= year <= today.year + 1:
        errors["year"] = ["Năm của danh mục hồ sơ không hợp lệ."]
    own = db.session.scalar(select(Staff).where(Staff.user_id == actor.user_id, Staff.agency_id == actor.agency_id))
    if own is None:
        raise DossierPermissionError("Chỉ cán bộ của cơ quan được lập hồ sơ công việc.")
    responsible = own
    if responsible_staff_id is not None and responsible_staff_id != own.id:
        if not (MANAGE_ALL_ROLES | {"leader"}) & actor.roles:
            raise DossierPermissionError("Chỉ văn thư hoặc lãnh đạo được lập hồ sơ thay cho người khác.")
        responsible = db.session.get(Staff, responsible_staff_id)
        if responsible is None or responsible.agency_id != actor.agency_id or not responsible.active:
            errors["responsible_staff_id"] = ["Người lập hồ sơ không thuộc cơ quan."]
    department_id = department_id if department_id is not None else (responsible.department_id if responsible else None)
    department = db.session.get(Department, department_id) if department_id else None
    if department_id and (department is None or department.agency_id != actor.agency_id):
        errors["department_id"] = ["Phòng ban không thuộc cơ quan."]
    opened_on = opened_on or today
    if opened_on.year != year:
        errors["opened_on"] = [f"Ngày mở hồ sơ phải thuộc năm {year}."]
    if errors:
        raise DossierValidationError("Chưa thể lập hồ sơ: " + next(iter(errors.values()))[0], field_errors=errors)
    assert responsible is not None
    if code is None:
        code = _next_code(actor.agency_id, year, department)
    elif db.session.scalar(select(Dossier.id).where(Dossier.agency_id == actor.agency_id, Dossier.year == year,
                                                   Dossier.code == code)):
        raise DossierValidationError(f"Năm {year} đã có hồ sơ ký hiệu “{code}”; hãy chọn ký hiệu khác.",
                                     field_errors={"code": ["Ký hiệu đã được dùng."]})
    dossier = Dossier(agency_id=actor.agency_id, year=year, code=code, title=title, retention=retention,
                      access=access, department_id=department.id if department else None,
                      responsible_staff_id=responsible.id, status="open", opened_on=opened_on,
                      note=nfc(note or "").strip(), created_by_id=actor.user_id)
    db.session.add(dossier)
    db.session.flush()
    return get_dossier(actor, dossier.id)


def update_dossier(actor: ActorRef, dossier_id: int, *, title: str, retention: str, access: str,
                   note: str = "") -> DossierInfo:
    """Correct the description of an open dossier."""
    dossier = _load(actor, dossier_id)
    if dossier.status != "open":
        raise DossierStateError("Hồ sơ đã đóng; hãy mở lại hồ sơ trước khi sửa.")
    title = _clean(title)
    if not title or len(title) > MAX_TITLE or retention not in RETENTIONS or access not in ACCESS_LEVELS:
        raise DossierValidationError("Tiêu đề, thời hạn bảo quản hoặc chế độ sử dụng không hợp lệ.")
    dossier.title, dossier.retention, dossier.access = title, retention, access
    dossier.note = nfc(note or "").strip()
    db.session.flush()
    return get_dossier(actor, dossier_id)


def close_dossier(actor: ActorRef, dossier_id: int, *, closed_on: dt.date | None = None) -> DossierInfo:
    """Close (kết thúc) a dossier: nothing more is filed; the one-year deposit period starts."""
    dossier = _load(actor, dossier_id)
    if dossier.status != "open":
        raise DossierStateError("Hồ sơ đã được đóng trước đó.")
    if not dossier.entries:
        raise DossierStateError("Hồ sơ chưa có văn bản nào; hãy đưa văn bản vào hồ sơ trước khi đóng.")
    closed_on = closed_on or clock.today()
    if closed_on < dossier.opened_on or closed_on > clock.today():
        raise DossierValidationError("Ngày đóng hồ sơ phải từ ngày mở hồ sơ đến hôm nay.",
                                     field_errors={"closed_on": ["Ngày không hợp lệ."]})
    dossier.status, dossier.closed_on = "closed", closed_on
    db.session.flush()
    return get_dossier(actor, dossier_id)


def reopen_dossier(actor: ActorRef, dossier_id: int) -> DossierInfo:
    dossier = _load(actor, dossier_id)
    if dossier.status != "closed":
        raise DossierStateError("Chỉ mở lại được hồ sơ đã đóng và chưa nộp lưu.")
    dossier.status, dossier.closed_on, dossier.deposit_reminder = "open", None, None
    db.session.flush()
    return get_dossier(actor, dossier_id)


def record_deposit(actor: ActorRef, dossier_id: int, *, deposited_on: dt.date | None = None) -> DossierInfo:
    """The clerk records that a closed dossier was handed to the agency archive (nộp lưu)."""
    dossier = _load(actor, dossier_id)
    if not MANAGE_ALL_ROLES & actor.roles:
        raise DossierPermissionError("Chỉ văn thư cơ quan được ghi nhận nộp lưu hồ sơ.")
    if dossier.status != "closed":
        raise DossierStateError("Chỉ hồ sơ đã đóng mới được nộp lưu.")
    deposited_on = deposited_on or clock.today()
    if dossier.closed_on and deposited_on < dossier.closed_on:
        raise DossierValidationError("Ngày nộp lưu không được trước ngày đóng hồ sơ.")
    dossier.status, dossier.deposited_on = "deposited", deposited_on
    db.session.flush()
    return get_dossier(actor, dossier_id)


def file_document(actor: ActorRef, dossier_id: int, document_id: int) -> DossierInfo:
    """Put a document the actor may see at the end of an open dossier (a link: the document is not copied)."""
    dossier = _load(actor, dossier_id)
    if dossier.status != "open":
        raise DossierStateError("Hồ sơ đã đóng; không thể đưa thêm văn bản vào hồ sơ.")
    document = documents_queries.get_document(actor.agency_id, document_id, actor)  # NotFound if not visible
    if db.session.get(DossierDocument, (dossier_id, document_id)) is not None:
        raise DossierStateError(f"Văn bản {document.number_notation or document.summary[:60]} đã có trong hồ sơ.")
    last = db.session.scalar(select(func.max(DossierDocument.position)).where(
        DossierDocument.dossier_id == dossier_id)) or 0
    db.session.add(DossierDocument(dossier_id=dossier_id, document_id=document_id, position=last + 1,
                                   filed_by_id=actor.user_id))
    db.session.flush()
    db.session.expire(dossier, ["entries"])
    return get_dossier(actor, dossier_id)


def _entries(dossier_id: int) -> list[DossierDocument]:
    return list(db.session.scalars(select(DossierDocument).where(DossierDocument.dossier_id == dossier_id)
                                   .order_by(DossierDocument.position)))


def _renumber(entries: list[DossierDocument]) -> None:
    # Two passes keep positions unique at every flush even if a unique index on position is added later.
    for i, e in enumerate(entries, start=1):
        e.position = -i
    db.session.flush()
    for e in entries:
        e.position = -e.position
    db.session.flush()


def unfile_document(actor: ActorRef, dossier_id: int, document_id: int) -> DossierInfo:
    dossier = _load(actor, dossier_id)
    if dossier.status != "open":
        raise DossierStateError("Hồ sơ đã đóng; không thể bỏ văn bản khỏi hồ sơ.")
    entries = _entries(dossier_id)
    entry = next((e for e in entries if e.document_id == document_id), None)
    if entry is None:
        raise DossierNotFoundError("Văn bản không có trong hồ sơ.")
    db.session.delete(entry)
    db.session.flush()
    _renumber([e for e in entries if e is not entry])
    db.session.expire(dossier, ["entries"])
    return get_dossier(actor, dossier_id)


def move_document(actor: ActorRef, dossier_id: int, document_id: int, position: int) -> DossierInfo:
    """Give a document a new place in the dossier's order (1 = first)."""
    dossier = _load(actor, dossier_id)
    if dossier.status != "open":
        raise DossierStateError("Hồ sơ đã đóng; không thể sắp xếp lại văn bản.")
    entries = _entries(dossier_id)
    entry = next((e for e in entries if e.document_id == document_id), None)
    if entry is None:
        raise DossierNotFoundError("Văn bản không có trong hồ sơ.")
    rest = [e for e in entries if e is not entry]
    rest.insert(max(0, min(position - 1, len(rest))), entry)
    _renumber(rest)
    db.session.expire(dossier, ["entries"])
    return get_dossier(actor, dossier_id)


# -- deposit reminders ---------------------------------------------------------------------
def take_deposit_reminders(today: dt.date, *, limit: int = REMINDER_BATCH) -> list[DepositReminderInfo]:
    """Record and return the deposit reminders due today: ``DEPOSIT_REMINDER_DAYS`` before, and once overdue.

    Each closed dossier gets each stage once (``Dossier.deposit_reminder``); rows another run holds are
    skipped, so concurrent runs never take the same dossier. Told: the responsible person, or the agency's
    clerks when that person is no longer active. The caller sends them in the same transaction.
    """
    soon_until = add_years(today + dt.timedelta(days=DEPOSIT_REMINDER_DAYS), -DEPOSIT_WITHIN_YEARS)
    overdue_until = last_closing_overdue(today)
    rows = db.session.execute(
        select(Dossier, Staff.user_id, Staff.active)
        .join(Staff, Staff.id == Dossier.responsible_staff_id)
        .where(Dossier.status == "closed", Dossier.closed_on <= soon_until,
               or_(Dossier.deposit_reminder.is_(None),
                   and_(Dossier.deposit_reminder == "due_soon", Dossier.closed_on <= overdue_until)))
        .order_by(Dossier.closed_on, Dossier.id)
        .limit(limit)
        .with_for_update(of=Dossier, skip_locked=True)
    ).all()
    clerks: dict[int, tuple[int, ...]] = {}
    out = []
    for dossier, user_id, active in rows:
        assert dossier.closed_on is not None
        stage = "overdue" if dossier.closed_on <= overdue_until else "due_soon"
        if active:
            users: tuple[int, ...] = (user_id,)
        else:
            if dossier.agency_id not in clerks:
                clerks[dossier.agency_id] = tuple(s.user_id for s in staff_of(dossier.agency_id, role=CLERK))
            users = clerks[dossier.agency_id]
        dossier.deposit_reminder = stage
        out.append(DepositReminderInfo(deposit_due_info(dossier, user_id, today), stage, users))
    db.session.flush()
    return out
