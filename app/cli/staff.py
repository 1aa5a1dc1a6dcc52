"""`flask qlvb staff import`: the bulk import of staff from a file, for SoICT's engineers."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.accounts import staff_import as imports
from app.accounts.policy import PasswordPolicy
from app.core.errors import DomainError
from app.extensions import db
from app.tenancy import roles as R
from app.tenancy.queries import agency_by_code

from .main import qlvb


@qlvb.group("staff")
def staff() -> None:
    """Staff accounts of an agency."""


def _fail(exc: DomainError) -> click.ClickException:
    db.session.rollback()
    lines = [exc.message, *exc.details]
    return click.ClickException("\n".join(lines))


@staff.command("import")
@click.option("--agency", "agency_code", required=True, help="Agency code (agencies/<code>.yaml).")
@click.option("--dry-run", is_flag=True, help="Check every row and print the errors; write nothing.")
@click.option("--result", "result_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the result file with the initial passwords (XLSX, owner-only).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def staff_import(agency_code: str, dry_run: bool, result_path: Path | None, file: Path) -> None:
    """Import staff from FILE (.xlsx or UTF-8 .csv): all rows or none."""
    agency = agency_by_code(agency_code)
    if agency is None or agency.is_central:
        raise click.ClickException(f"Không có cơ quan mã “{agency_code}”.")
    if not dry_run and result_path is None:
        raise click.ClickException("Cần --result TỆP: nơi ghi mật khẩu ban đầu của các tài khoản mới.")
    if result_path is not None and result_path.exists():
        raise click.ClickException(f"Tệp {result_path} đã có; chọn tên khác (không ghi đè mật khẩu cũ).")
    limits = imports.ImportLimits.from_config(current_app.config)
    grantable = R.AGENCY_GRANTABLE | {R.AGENCY_ADMIN}
    try:
        preview = imports.start_import(agency_id=agency.id, filename=file.name, data=file.read_bytes(),
                                       grantable=grantable, limits=limits, acting_user_id=None)
    except DomainError as exc:
        raise _fail(exc) from exc
    if not preview.ok:
        db.session.rollback()
        raise click.ClickException("\n".join([f"Có {len(preview.errors)} lỗi; không cán bộ nào được nhập:",
                                              *preview.errors]))
    if dry_run:
        db.session.rollback()
        click.echo(f"Tệp hợp lệ: {len(preview.rows)} cán bộ sẽ được nhập vào {agency.name} (chưa ghi gì).")
        return
    try:
        result = imports.confirm_import(preview.import_id, agency_id=agency.id, token=preview.token,
                                        grantable=grantable, policy=PasswordPolicy.from_config(current_app.config),
                                        limits=limits, acting_user_id=None)
        body = imports.result_xlsx(result)
    except DomainError as exc:
        raise _fail(exc) from exc
    assert result_path is not None
    fd = os.open(result_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(body)
    db.session.commit()
    click.echo(f"Đã tạo {len(result.accounts)} tài khoản trong {agency.name}; mật khẩu ban đầu ở {result_path}.")
