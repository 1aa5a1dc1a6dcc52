"""The `flask qlvb` command group: init, agencies import/export, demo."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.core.errors import DomainError
from app.extensions import appbuilder, db


@click.group("qlvb", help="QLVB administration commands.")
def qlvb() -> None:
    pass


def run_init() -> None:
    """Migrate, create permissions and roles, load the agencies: everything a fresh database needs."""
    from flask_migrate import upgrade

    from app.admin.permissions import sync_roles
    from app.tenancy.services import import_agencies

    upgrade(directory=str(Path(current_app.root_path) / "migrations"), revision="heads")
    # FAB grants every permission it adds to the admin role: that role must exist first (FAB_CREATE_DB is off).
    sm = appbuilder.sm
    sm.find_role(sm.auth_role_admin) or sm.add_role(sm.auth_role_admin)
    appbuilder.add_permissions(update_perms=True)
    sync_roles(appbuilder)
    import_agencies(Path(current_app.config["QLVB_AGENCIES_DIR"]))
    from app.bootstrap import after_init

    after_init()
    db.session.commit()


@qlvb.command("init")
@with_appcontext
def init_cmd() -> None:
    """Apply migrations, permissions, roles, agencies (idempotent)."""
    run_init()
    click.echo("Cơ sở dữ liệu đã sẵn sàng.")


@qlvb.group("agencies")
def agencies() -> None:
    """Load or write back agencies/*.yaml."""


@agencies.command("import")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None)
@with_appcontext
def agencies_import(directory: Path | None) -> None:
    from app.tenancy.services import import_agencies

    directory = directory or Path(current_app.config["QLVB_AGENCIES_DIR"])
    try:
        result = import_agencies(directory)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Đã nạp {result.created + result.updated} cơ quan ({result.created} mới, {result.updated} cập nhật), "
               f"{result.departments} phòng ban, {result.positions} chức vụ.")


@agencies.command("export")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None)
@click.argument("codes", nargs=-1)
@with_appcontext
def agencies_export(directory: Path | None, codes: tuple[str, ...]) -> None:
    from app.tenancy.services import export_agencies

    directory = directory or Path(current_app.config["QLVB_AGENCIES_DIR"])
    written = export_agencies(directory, codes=list(codes) or None)
    click.echo(f"Đã ghi {len(written)} tệp vào {directory}.")


@qlvb.command("demo")
@click.option("--host-port", default="5000", help="Port shown in the printed URLs.")
@with_appcontext
def demo_cmd(host_port: str) -> None:
    """Create demo accounts in a few agencies and print how to log in."""
    from app.demo import seed_demo

    accounts = seed_demo()
    db.session.commit()
    click.echo("\nTài khoản dùng thử (mật khẩu lưu tại instance/demo_accounts.txt):")
    for acc in accounts:
        pin = f"  PIN ký số {acc.pin}" if acc.pin else ""
        click.echo(f"  http://{acc.host}:{host_port}/login/  {acc.email:<38} {acc.password}  ({acc.role_label}){pin}")
    click.echo("\nMở một địa chỉ ở trên trong trình duyệt (tên miền *.localhost tự trỏ về máy này).")
    click.echo("Lãnh đạo ký số bằng chứng thư cá nhân, văn thư ký số cơ quan: mã PIN in ở trên và lưu tại "
               "instance/demo_pins.txt. Chứng thư dùng thử do gốc «QLVB Demo Root CA» cấp, chỉ hệ thống này tin cậy.")
