"""Creating and ending delegations (ủy quyền), and telling deputies when one starts. Never commits.

What a delegation does: from its first day to its last (Vietnam dates, both included) the deputy's inbox also
lists every open task the principal could act on — named to them, claimed by them, or in their lanes — old and
new alike, and the deputy may complete them; nothing is moved, so when the delegation ends (or is ended early)
the tasks are the principal's alone again. Each step a deputy completes records both names.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import and_, select

from app.core import clock
from app.core.errors import NotFoundError, PermissionDeniedError, RefusedError, ValidationError
from app.core.text import nfc
from app.extensions import db
from app.notifications.services import notify
from app.tenancy import roles as R
from app.tenancy.models import Staff

from .models import Delegation
from .queries import DelegationInfo, get_delegation

log = logging.getLogger("qlvb.delegations")

# Who may hand their work to a deputy: the people whose steps others wait for when they are away.
DELEGATING_ROLES = frozenset({R.LEADER, R.HEAD})
MAX_DAYS = 366
MAX_REASON = 500
LINK = "/delegations/"


def _staff(user_id: int, agency_id: int) -> Staff | None:
    return db.session.scalar(select(Staff).where(Staff.user_id == user_id, Staff.agency_id == agency_id))


def _fmt(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def create_delegation(agency_id: int, *, principal_id: int, deputy_id: int, starts_on: dt.date, ends_on: dt.date,
                      reason: str, by_user_id: int, by_admin: bool = False) -> DelegationInfo:
    """Name ``deputy_id`` to stand in for ``principal_id`` (themselves, or the agency admin for them)."""
    if by_user_id != principal_id and not by_admin:
        raise PermissionDeniedError("Chỉ người ủy quyền hoặc quản trị cơ quan được lập ủy quyền")
    if principal_id == deputy_id:
        raise ValidationError("Không thể tự ủy quyền cho chính mình; hãy chọn một người khác")
    # The principal's row, locked: two delegations of one person created at once cannot both pass the overlap check.
    principal = db.session.scalar(select(Staff).where(Staff.user_id == principal_id, Staff.agency_id == agency_id)
                                  .with_for_update())
    if principal is None or not principal.active:
        raise NotFoundError("Không tìm thấy người ủy quyền trong cơ quan")
    if not DELEGATING_ROLES & {r.name for r in principal.user.roles}:
        raise RefusedError("Chỉ lãnh đạo cơ quan hoặc trưởng đơn vị được ủy quyền xử lý công việc")
    deputy = _staff(deputy_id, agency_id)
    if deputy is None or not deputy.active:
        raise ValidationError("Người được ủy quyền phải là cán bộ đang làm việc của cơ quan",
                              field_errors={"deputy_id": ["Chọn một cán bộ đang làm việc của cơ quan"]})
    today = clock.today()
    if ends_on < starts_on:
        raise ValidationError("Ngày kết thúc phải từ ngày bắt đầu trở đi",
                              field_errors={"ends_on": ["Ngày kết thúc trước ngày bắt đầu"]})
    if ends_on < today:
        raise ValidationError("Thời gian ủy quyền đã qua; không lập ủy quyền cho những ngày đã qua",
                              field_errors={"ends_on": ["Ngày kết thúc đã qua"]})
    if starts_on < today:
        raise ValidationError("Ngày bắt đầu không được trước hôm nay",
                              field_errors={"starts_on": ["Ngày bắt đầu đã qua"]})
    if (ends_on - starts_on).days + 1 > MAX_DAYS:
        raise ValidationError(f"Một lần ủy quyền dài tối đa {MAX_DAYS} ngày")
    reason = nfc((reason or "").strip())
    if not reason:
        raise ValidationError("Vui lòng ghi lý do ủy quyền", field_errors={"reason": ["Chưa ghi lý do"]})
    if len(reason) > MAX_REASON:
        raise ValidationError(f"Lý do ủy quyền dài tối đa {MAX_REASON} ký tự")
    overlapping = and_(Delegation.agency_id == agency_id, Delegation.ended_at.is_(None),
                       Delegation.starts_on <= ends_on, Delegation.ends_on >= starts_on)
    clash = db.session.scalar(select(Delegation).where(overlapping, Delegation.principal_id == principal_id).limit(1))
    if clash is not None:
        raise RefusedError(f"{principal.full_name} đã ủy quyền từ {_fmt(clash.starts_on)} đến {_fmt(clash.ends_on)}, "
                           "trùng thời gian; hãy kết thúc ủy quyền đó trước hoặc chọn thời gian khác")
    # A deputy away at the same time could not act, and chains (A for B for C) are not followed.
    away = db.session.scalar(select(Delegation).where(overlapping, Delegation.principal_id == deputy_id).limit(1))
    if away is not None:
        raise RefusedError(f"{deputy.full_name} cũng ủy quyền cho người khác từ {_fmt(away.starts_on)} đến "
                           f"{_fmt(away.ends_on)}, trùng thời gian; hãy chọn người khác")
    standing_in = db.session.scalar(select(Delegation).where(overlapping, Delegation.deputy_id == principal_id)
                                    .limit(1))
    if standing_in is not None:
        raise RefusedError(f"{principal.full_name} đang được ủy quyền thay người khác trong thời gian này; "
                           "không ủy quyền tiếp cho người thứ ba")
    now = clock.now()
    row = Delegation(agency_id=agency_id, principal_id=principal_id, deputy_id=deputy_id, starts_on=starts_on,
                     ends_on=ends_on, reason=reason, created_by_id=by_user_id, created_at=now)
    db.session.add(row)
    db.session.flush()
    log.info("delegation %s: user %s -> user %s, %s..%s (by user %s)", row.id, principal_id, deputy_id,
             starts_on, ends_on, by_user_id)
    if starts_on <= today:
        _tell_started(row, principal.full_name)
    found = get_delegation(row.id, agency_id)
    assert found is not None
    return found


def end_delegation(delegation_id: int, agency_id: int, *, by_user_id: int, by_admin: bool = False) -> DelegationInfo:
    """End a delegation now (the principal is back early, or it was a mistake); its history stays."""
    row = db.session.scalar(select(Delegation).where(Delegation.id == delegation_id,
                                                     Delegation.agency_id == agency_id).with_for_update())
    if row is None or (by_user_id != row.principal_id and not by_admin):
        raise NotFoundError("Không tìm thấy ủy quyền")
    if row.ended_at is not None or row.ends_on < clock.today():
        raise RefusedError("Ủy quyền này đã kết thúc")
    row.ended_at = clock.now()
    row.ended_by_id = by_user_id
    db.session.flush()
    log.info("delegation %s ended by user %s", row.id, by_user_id)
    principal = _staff(row.principal_id, agency_id)
    if row.notified_at is not None:
        notify([row.deputy_id], agency_id=agency_id, kind="delegation",
               title=f"Ủy quyền của {principal.full_name if principal else ''} đã kết thúc",
               body="Các công việc được ủy quyền không còn trong hộp công việc của bạn.", link=LINK,
               dedupe_key=f"delegation:{row.id}:ended")
    found = get_delegation(row.id, agency_id)
    assert found is not None
    return found


def _tell_started(row: Delegation, principal_name: str) -> None:
    notify([row.deputy_id], agency_id=row.agency_id, kind="delegation",
           title=f"Bạn được {principal_name} ủy quyền xử lý công việc",
           body=f"Từ {_fmt(row.starts_on)} đến {_fmt(row.ends_on)}: {row.reason}. Công việc của {principal_name} "
                "hiện trong hộp công việc của bạn.", link="/inbox/",
           dedupe_key=f"delegation:{row.id}:started")
    row.notified_at = clock.now()


def notify_started(today: dt.date | None = None) -> int:
    """Tell each deputy whose delegation starts today (or started while nobody ran this) once; the job's body."""
    day = today or clock.today()
    rows = db.session.execute(
        select(Delegation, Staff.full_name)
        .join(Staff, Staff.user_id == Delegation.principal_id)
        .where(Delegation.notified_at.is_(None), Delegation.ended_at.is_(None), Delegation.starts_on <= day,
               Delegation.ends_on >= day)
        .order_by(Delegation.id).limit(500)
    ).all()
    for row, name in rows:
        _tell_started(row, name)
    db.session.flush()
    return len(rows)
