"""Account lifecycle (Art 3, 10): create, move (agency/department/position, roles follow), revoke, reinstate.

An account is an ab_user (username = official e-mail) plus its Staff profile. Revocation never deletes:
the person's history and documents remain; login stops at once (also for open sessions) and their open
workflow tasks are flagged for the agency admin to hand on.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from flask_appbuilder.security.sqla.models import Role, User
from sqlalchemy import func, or_, select

from app.core import clock
from app.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from app.core.text import nfc
from app.extensions import db
from app.tenancy import roles as R
from app.tenancy.accounts import fab_name_parts
from app.tenancy.models import Agency, Department, Position, Staff
from app.workflow.models import HumanTask

from .audit import record_event
from .errors import AccountStateError, WeakPasswordError
from .hashing import hash_generated_password, hash_password
from .models import TaskReassignment
from .passwords import security_of
from .policy import PasswordPolicy, password_problems
from .sessions import end_sessions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccountRef:
    staff_id: int
    user_id: int
    agency_id: int
    email: str
    full_name: str
    active: bool
    roles: frozenset[str]


@dataclass(frozen=True)
class ReassignmentInfo:
    human_task_id: int
    instance_id: int
    task_name: str
    process_key: str
    staff_id: int
    staff_name: str
    flagged_at: dt.datetime


def _ref(staff: Staff) -> AccountRef:
    return AccountRef(staff.id, staff.user_id, staff.agency_id, staff.email, staff.full_name, staff.active,
                      frozenset(r.name for r in staff.user.roles))


def _staff(staff_id: int) -> Staff:
    staff = db.session.get(Staff, staff_id)
    if staff is None:
        raise NotFoundError("Không tìm thấy cán bộ.")
    return staff


def _role_rows(names: Collection[str]) -> list[Role]:
    rows = list(db.session.scalars(select(Role).where(Role.name.in_(list(names)))))
    missing = set(names) - {r.name for r in rows}
    if missing:
        raise ValidationError("Vai trò không tồn tại: " + ", ".join(sorted(missing)))
    return rows


def _check_grantable(roles: Collection[str], grantable: Collection[str]) -> None:
    bad = sorted(set(roles) - set(grantable))
    if bad:
        raise PermissionDeniedError("Bạn không được cấp vai trò: " + ", ".join(R.role_label(b) for b in bad))


def _check_added(added: Collection[str], grantable: Collection[str], *, own: bool) -> None:
    """Roles an account gains, whether chosen or implied by a position, must be the acting admin's to grant."""
    if own and added:
        raise PermissionDeniedError("Không tự cấp thêm vai trò cho chính mình; hãy nhờ quản trị khác của cơ quan "
                                    "hoặc Sở Thông tin và Truyền thông.")
    _check_grantable(added, grantable)


def _in_agency(model: type[Department] | type[Position], row_id: int | None, agency_id: int) -> int | None:
    if row_id is None:
        return None
    row = db.session.get(model, row_id)
    if row is None or row.agency_id != agency_id:
        # Same answer as a missing row: never confirm that another agency's id exists.
        raise NotFoundError("Không tìm thấy phòng ban hoặc chức vụ trong cơ quan này.")
    return row.id


def _position_role(position_id: int | None) -> str | None:
    if position_id is None:
        return None
    pos = db.session.get(Position, position_id)
    return pos.role if pos is not None else None


def _split_name(full_name: str) -> tuple[str, str]:
    return fab_name_parts(full_name)


def create_account(*, agency_id: int, full_name: str, email: str, roles: Collection[str], password: str,
                   grantable: Collection[str], policy: PasswordPolicy, department_id: int | None = None,
                   position_id: int | None = None, phone: str | None = None,
                   into: Staff | None = None, acting_user_id: int | None = None, username: str | None = None,
                   generated_password: bool = False, directory_account: bool = False) -> AccountRef:
    """An admin creates an official's account; the initial password must be changed at first login.
    ``into``: a transient Staff an admin form already holds, filled here instead of a new one.
    ``username``: a login name other than the e-mail (both open the account). ``generated_password``: the
    password is a random secret made by the system (bulk import), hashed with cheaper argon2 parameters;
    it is replaced at the first login. ``directory_account``: only the LDAP directory's password opens it."""
    email = nfc(email).strip().lower()
    username = nfc(username).strip().lower() if username else email
    full_name = nfc(full_name).strip()
    if not full_name:
        raise ValidationError("Cần nhập họ và tên.", field_errors={"full_name": ["Trường này là bắt buộc."]})
    names = sorted({email, username})
    if db.session.scalar(select(User.id).where(or_(func.lower(User.username).in_(names),
                                                   func.lower(User.email).in_(names)))):
        raise ValidationError(f"Đã có tài khoản dùng địa chỉ {email}.", field_errors={"email": ["Đã được dùng."]})
    if db.session.get(Agency, agency_id) is None:
        raise NotFoundError("Không tìm thấy cơ quan.")
    _check_grantable(roles, grantable)
    problems = password_problems(password, policy, email=email, full_name=full_name)
    if problems:
        raise WeakPasswordError("Mật khẩu ban đầu chưa đạt yêu cầu.", details=problems,
                                field_errors={"password": problems})
    department_id = _in_agency(Department, department_id, agency_id)
    position_id = _in_agency(Position, position_id, agency_id)
    wanted = set(roles) | ({_position_role(position_id)} - {None})
    _check_added(wanted, grantable, own=False)  # a position's role is granted too
    first, last = _split_name(full_name)
    user = User(username=username, email=email, first_name=first, last_name=last, active=True,
                password=hash_generated_password(password) if generated_password else hash_password(password))
    user.roles = _role_rows(sorted(wanted))
    db.session.add(user)
    db.session.flush()
    staff = into if into is not None else Staff()
    staff.user_id, staff.agency_id = user.id, agency_id
    staff.full_name, staff.email, staff.phone = full_name, email, phone
    staff.department = db.session.get(Department, department_id) if department_id else None
    staff.position = db.session.get(Position, position_id) if position_id else None
    staff.active = True
    db.session.add(staff)
    sec = security_of(user.id)
    sec.must_change_password = not directory_account
    sec.directory_account = directory_account
    sec.password_changed_at = clock.now()
    db.session.flush()
    record_event("account_created", agency_id=agency_id, target_type="staff", target_id=staff.id, message=email,
                 detail={"roles": sorted(wanted), "department_id": department_id, "position_id": position_id})
    return _ref(staff)


def change_account(staff_id: int, *, grantable: Collection[str], roles: Collection[str] | None = None,
                   agency_id: int | None = None, department_id: int | None = None,
                   position_id: int | None = None, full_name: str | None = None, email: str | None = None,
                   phone: str | None = None, acting_user_id: int | None = None) -> AccountRef:
    """Move an official (agency, department, position) and set their roles; permissions follow the move.

    Roles the acting admin may not grant are kept only if the official already had them and stays in the
    same agency. A move to another agency drops every agency role except the one the new position implies,
    and flags their open tasks in the old agency for reassignment.
    """
    staff = _staff(staff_id)
    user = staff.user
    old = {"agency_id": staff.agency_id, "department_id": staff.department_id, "position_id": staff.position_id,
           "roles": sorted(r.name for r in user.roles)}
    new_agency = agency_id if agency_id is not None else staff.agency_id
    moved_agency = new_agency != staff.agency_id
    if moved_agency and db.session.get(Agency, new_agency) is None:
        raise NotFoundError("Không tìm thấy cơ quan.")
    department_id = _in_agency(Department, department_id, new_agency)
    position_id = _in_agency(Position, position_id, new_agency)
    current = {r.name for r in user.roles}
    if roles is not None:
        # Roles the official already holds may stay on the form; only new ones need the right to grant them.
        _check_grantable(set(roles) - current if not moved_agency else roles, grantable)
    if moved_agency:
        kept: set[str] = {R.SOICT_ADMIN} & current
        chosen = set(roles or ())
    else:
        # Roles outside the admin's reach (e.g. agency_admin, granted by SoICT) are not theirs to remove.
        kept = current - set(grantable)
        chosen = set(roles) if roles is not None else current & set(grantable)
        old_implied = _position_role(staff.position_id)
        if old_implied and staff.position_id != position_id and roles is None:
            chosen.discard(old_implied)
    implied = _position_role(position_id)
    wanted = kept | chosen | ({implied} if implied else set())
    _check_added(wanted - current, grantable, own=acting_user_id is not None and acting_user_id == user.id)
    if wanted != current:
        user.roles = _role_rows(sorted(wanted))
    if full_name is not None and nfc(full_name).strip():
        staff.full_name = nfc(full_name).strip()
        user.first_name, user.last_name = _split_name(staff.full_name)
    if email is not None and nfc(email).strip().lower() != staff.email:
        email = nfc(email).strip().lower()
        clash = db.session.scalar(select(User.id).where(or_(func.lower(User.username) == email,
                                                            func.lower(User.email) == email), User.id != user.id))
        if clash:
            raise ValidationError(f"Đã có tài khoản dùng địa chỉ {email}.", field_errors={"email": ["Đã được dùng."]})
        staff.email = user.username = user.email = email
    if phone is not None:
        staff.phone = phone or None
    flagged = 0
    if moved_agency or staff.department_id != department_id:
        flagged = _flag_open_tasks(staff, only_agency=staff.agency_id)
    staff.agency_id, staff.department_id, staff.position_id = new_agency, department_id, position_id
    if moved_agency:
        security_of(user.id).session_version += 1
    db.session.flush()
    record_event("account_changed", agency_id=new_agency, target_type="staff", target_id=staff.id,
                 message=staff.email,
                 detail={"before": old, "after": {"agency_id": new_agency, "department_id": department_id,
                                                  "position_id": position_id, "roles": sorted(wanted)},
                         "tasks_flagged": flagged})
    return _ref(staff)


def revoke_account(staff_id: int, *, reason: str = "", now: dt.datetime | None = None) -> AccountRef:
    """Stop login at once (open sessions too); keep the person's history; flag their open tasks."""
    now = now or clock.now()
    staff = _staff(staff_id)
    if not staff.active and not staff.user.active:
        raise AccountStateError(f"Tài khoản {staff.email} đã được thu hồi trước đó.")
    staff.active = False
    staff.revoked_at = now
    staff.user.active = False
    sec = security_of(staff.user_id)
    sec.session_version = (sec.session_version or 0) + 1
    end_sessions(staff.user_id, reason="account_revoked")
    flagged = _flag_open_tasks(staff, only_agency=staff.agency_id, now=now)
    db.session.flush()
    record_event("account_revoked", agency_id=staff.agency_id, target_type="staff", target_id=staff.id,
                 message=staff.email, detail={"reason": reason, "tasks_flagged": flagged})
    log.info("account %s revoked; %d open tasks flagged", staff.email, flagged)
    return _ref(staff)


def revoke_sessions(staff_id: int, *, agency_id: int | None) -> int:
    """An administrator signs an official out everywhere (a lost laptop, a shared computer): every session
    ends at once. ``agency_id``: the admin's agency (None for SoICT); another agency's official is "not found"."""
    staff = _staff(staff_id)
    if agency_id is not None and staff.agency_id != agency_id:
        raise NotFoundError("Không tìm thấy cán bộ.")
    sec = security_of(staff.user_id)
    sec.session_version = (sec.session_version or 0) + 1
    ended = end_sessions(staff.user_id, reason="revoked_by_admin")
    db.session.flush()
    record_event("sessions_revoked", agency_id=staff.agency_id, target_type="staff", target_id=staff.id,
                 message=staff.email, detail={"sessions": ended})
    return ended


def reinstate_account(staff_id: int, *, now: dt.datetime | None = None) -> AccountRef:
    staff = _staff(staff_id)
    if staff.active and staff.user.active:
        raise AccountStateError(f"Tài khoản {staff.email} đang hoạt động.")
    staff.active = True
    staff.revoked_at = None
    staff.user.active = True
    # The old password may have leaked while the account was dormant.
    security_of(staff.user_id).must_change_password = True
    db.session.flush()
    record_event("account_reinstated", agency_id=staff.agency_id, target_type="staff", target_id=staff.id,
                 message=staff.email)
    return _ref(staff)


def _flag_open_tasks(staff: Staff, *, only_agency: int, now: dt.datetime | None = None) -> int:
    now = now or clock.now()
    task_ids = list(db.session.scalars(select(HumanTask.id).where(
        HumanTask.agency_id == only_agency, HumanTask.state == "open",
        or_(HumanTask.candidate_user_id == staff.user_id, HumanTask.claimed_by_id == staff.user_id))))
    for task_id in task_ids:
        row = db.session.get(TaskReassignment, task_id)
        if row is None:
            db.session.add(TaskReassignment(human_task_id=task_id, agency_id=only_agency, staff_id=staff.id,
                                            flagged_at=now))
        else:
            row.staff_id, row.flagged_at, row.resolved_at = staff.id, now, None
    return len(task_ids)


def open_reassignments(agency_id: int) -> Sequence[ReassignmentInfo]:
    """Flagged tasks still open and still waiting on the person who left (what the agency admin must handle)."""
    rows = db.session.execute(
        select(TaskReassignment, HumanTask, Staff)
        .join(HumanTask, HumanTask.id == TaskReassignment.human_task_id)
        .join(Staff, Staff.id == TaskReassignment.staff_id)
        .where(TaskReassignment.agency_id == agency_id, TaskReassignment.resolved_at.is_(None),
               HumanTask.state == "open",
               or_(HumanTask.candidate_user_id == Staff.user_id, HumanTask.claimed_by_id == Staff.user_id))
        .order_by(TaskReassignment.flagged_at, HumanTask.id))
    return [ReassignmentInfo(t.id, t.instance_id, t.name, t.process_key, s.id, s.full_name, flag.flagged_at)
            for flag, t, s in rows]
