"""Staff accounts: an ab_user (login = official e-mail, Art 3.2) plus its Staff profile."""

from __future__ import annotations

import logging

from flask_appbuilder.security.sqla.models import Role, User
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from app.core.errors import NotFoundError, ValidationError
from app.extensions import db

from .models import Agency, Department, Position, Staff

log = logging.getLogger(__name__)


def fab_name_parts(full_name: str) -> tuple[str, str]:
    """Flask-AppBuilder shows ``first_name last_name``; a Vietnamese name reads family, middle, given
    ("Phạm Văn Đức"), so the family and middle names go first and the given name last."""
    parts = " ".join(full_name.split()).rsplit(" ", 1)
    return (parts[0], parts[1]) if len(parts) == 2 else (parts[0], "")


def create_staff_account(
    *,
    agency_code: str,
    full_name: str,
    email: str,
    roles: list[str],
    password: str,
    department_code: str | None = None,
    position_code: str | None = None,
) -> Staff:
    email = email.strip().lower()
    agency = db.session.scalar(select(Agency).where(Agency.code == agency_code))
    if agency is None:
        raise NotFoundError(f"Không có cơ quan mã “{agency_code}”.")
    if db.session.scalar(select(User).where(func.lower(User.username) == email)):
        raise ValidationError(f"Đã có tài khoản dùng địa chỉ {email}.")
    role_rows = list(db.session.scalars(select(Role).where(Role.name.in_(roles))))
    if len(role_rows) != len(set(roles)):
        raise ValidationError("Vai trò không tồn tại: " + ", ".join(sorted(set(roles) - {r.name for r in role_rows})))
    department = position = None
    if department_code:
        department = db.session.scalar(
            select(Department).where(Department.agency_id == agency.id, Department.code == department_code))
        if department is None:
            raise NotFoundError(f"Cơ quan {agency.name} không có phòng ban mã “{department_code}”.")
    if position_code:
        position = db.session.scalar(
            select(Position).where(Position.agency_id == agency.id, Position.code == position_code))
    first, last = fab_name_parts(full_name)
    user = User(username=email, email=email, first_name=first, last_name=last, active=True,
                password=generate_password_hash(password))
    user.roles = role_rows
    db.session.add(user)
    db.session.flush()
    staff = Staff(user_id=user.id, agency_id=agency.id, department_id=department.id if department else None,
                  position_id=position.id if position else None, full_name=full_name, email=email, active=True)
    db.session.add(staff)
    db.session.flush()
    log.info("account %s created in %s with roles %s", email, agency_code, roles)
    return staff


def staff_by_email(email: str) -> Staff | None:
    return db.session.scalar(select(Staff).where(Staff.email == email.strip().lower()))
