"""`flask qlvb axis send|poll|outbox`: the document axis from the admin's terminal."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from app.extensions import db

from .main import qlvb


@qlvb.group("axis")
def axis() -> None:
    """Liên thông văn bản: send the outbox now, poll the external axis, list what is waiting."""


@axis.command("send")
@with_appcontext
def axis_send() -> None:
    """Send every due message of the outbox now (what the job interchange.send_outbox does)."""
    from app.jobs.bodies import send_outbox

    click.echo(f"Đã gửi {send_outbox()} thông điệp.")


@axis.command("poll")
@with_appcontext
def axis_poll() -> None:
    """Fetch what the external axis (QLVB_AXIS_URL) holds for our agencies."""
    from app.jobs.bodies import poll_axis

    click.echo(f"Đã nhận {poll_axis()} thông điệp.")


@axis.command("outbox")
@click.option("--all", "show_all", is_flag=True, help="Also the messages already sent.")
@with_appcontext
def axis_outbox(show_all: bool) -> None:
    """Messages not sent (pending with their last error, refused), oldest first."""
    from app.liaison.models import OutboxMessage

    counts = dict(db.session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all())
    click.echo("Hộp thư đi: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) if counts
               else "Hộp thư đi trống.")
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if not show_all:
        query = query.where(OutboxMessage.state != "sent")
    for row in db.session.scalars(query.limit(500)):
        click.echo(f"#{row.id} {row.state:<8} {row.kind:<7} {row.code or '--'} {row.document_id} -> "
                   f"{row.recipient_org}  lần thử {row.attempts}, lần sau {row.next_attempt_at:%Y-%m-%d %H:%M}"
                   + (f"\n    lỗi: {row.last_error}" if row.last_error else ""))


@axis.command("directory-import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.option("--full-list", is_flag=True, help="The file is the whole directory: codes not in it become inactive.")
@click.option("--dry-run", is_flag=True, help="Check the file and say what would change, write nothing.")
@with_appcontext
def axis_directory_import(path: str, full_list: bool, dry_run: bool) -> None:
    """Import the directory of organisations outside this deployment (CSV UTF-8 or XLSX: «Mã định danh»,
    «Tên cơ quan», optionally «Cơ quan chủ quản»). All or nothing."""
    from pathlib import Path

    from app.core.errors import DomainError
    from app.liaison.directory import import_directory, read_directory

    try:
        rows = read_directory(Path(path).read_bytes(), Path(path).name)
        done = import_directory(rows, full_list=full_list)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException("\n  - ".join([exc.message, *exc.details])) from exc
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    click.echo(("Thử (chưa ghi): " if dry_run else "Đã nhập danh bạ: ")
               + f"{done.added} mới, {done.updated} cập nhật, {done.unchanged} không đổi, "
               f"{done.deactivated} ngừng dùng, {len(done.skipped_local)} là cơ quan trong hệ thống (bỏ qua).")
