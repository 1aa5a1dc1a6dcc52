"""`flask qlvb backup|restore|audit export|maintenance notify`: operations SoICT runs (Art 10)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from app.core import clock
from app.core.errors import DomainError
from app.extensions import db

from .main import qlvb


def _fail(exc: DomainError) -> click.ClickException:
    db.session.rollback()
    return click.ClickException("\n  - ".join([exc.message, *exc.details]))


def _heads() -> list[str]:
    from sqlalchemy import text

    try:
        return sorted(r[0] for r in db.session.execute(text("SELECT version_num FROM alembic_version")))
    except Exception:  # a database without migrations still backs up
        db.session.rollback()
        return []


@qlvb.command("backup")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Thư mục mới chứa bản sao lưu.")
@with_appcontext
def backup_cmd(out_dir: Path) -> None:
    """Back up the database, every stored file it names and the signing folder, with a checksum manifest.

    Fails (exit 1, nothing written) when a file the database names is missing or damaged in the store."""
    from app.accounts.audit import record_event
    from app.documents.settings import setting, signing_dir
    from app.documents.storage import default_storage
    from app.ops.backup import backup

    heads = _heads()
    db.session.remove()
    try:
        result = backup(out_dir, database_url=db.engine.url.render_as_string(hide_password=False),
                        store=default_storage(), signing_dir=signing_dir(), signing_key=setting("QLVB_BACKUP_KEY"),
                        alembic_heads=heads)
    except DomainError as exc:
        db.session.rollback()
        try:  # the failure is what the operator must see, even when the database is why it failed
            record_event("backup", success=False, username="cli", message=str(out_dir), detail={"error": exc.log})
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
        raise _fail(exc) from exc
    record_event("backup", username="cli", message=str(result.directory),
                 detail={"files": result.files, "signing_files": result.signing_files, "bytes": result.total_bytes})
    db.session.commit()
    click.echo(f"Đã sao lưu cơ sở dữ liệu, {result.files} tệp lưu trữ và {result.signing_files} tệp khóa ký số vào "
               f"{result.directory} ({result.total_bytes / 1e6:.1f} MB).")
    if result.signing_files and not result.signing_sealed:
        click.echo("Lưu ý: thư mục khóa ký số được chép nguyên dạng; đặt QLVB_BACKUP_KEY để mã hóa nó trong bản sao "
                   "lưu. / Note: the signing folder is not encrypted; set QLVB_BACKUP_KEY.")


@qlvb.command("backup-prune")
@click.option("--root", required=True, type=click.Path(path_type=Path, exists=True, file_okay=False),
              help="Thư mục chứa các bản sao lưu (mỗi bản một thư mục con).")
@click.option("--keep", type=click.IntRange(min=1), default=None,
              help="Số bản mới nhất được giữ (mặc định QLVB_BACKUP_KEEP).")
@with_appcontext
def backup_prune_cmd(root: Path, keep: int | None) -> None:
    """Retention: remove all but the newest backups under ROOT (only folders holding a QLVB manifest)."""
    from app.ops.backup import prune

    kept = keep or int(current_app.config["QLVB_BACKUP_KEEP"])
    try:
        removed = prune(root, keep=kept)
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"Giữ {kept} bản sao lưu mới nhất; đã xóa {len(removed)} bản cũ"
               + (": " + ", ".join(p.name for p in removed) if removed else "") + ".")


@qlvb.command("restore")
@click.option("--from", "from_dir", required=True, type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Ghi đè cơ sở dữ liệu, kho tệp và thư mục khóa ký số không trống.")
@click.option("--verify", "drill_only", is_flag=True,
              help="Diễn tập: khôi phục vào cơ sở dữ liệu và kho tạm, so từng bảng và từng tệp với bản sao lưu, "
                   "không đụng tới dữ liệu đang chạy.")
@with_appcontext
def restore_cmd(from_dir: Path, force: bool, drill_only: bool) -> None:
    """Verify a backup's checksums, then restore it into this deployment's (fresh) database, store and signing
    folder. Run `flask qlvb storage check` afterwards. With --verify: the restore drill, into scratch copies."""
    from app.documents.settings import setting, signing_dir
    from app.documents.storage import build_storage
    from app.ops.backup import restore

    if drill_only:
        from app.ops.drill import drill

        try:
            done = drill(from_dir, database_url=db.engine.url.render_as_string(hide_password=False),
                         signing_key=setting("QLVB_BACKUP_KEY"))
        except DomainError as exc:
            raise _fail(exc) from exc
        click.echo(f"Diễn tập khôi phục đạt: {done.tables} bảng ({done.rows} dòng), {done.blobs} tệp lưu trữ và "
                   f"{done.signing_files} tệp khóa ký số khớp với bản sao lưu.")
        return
    db.session.remove()
    db.engine.dispose()
    try:
        manifest = restore(from_dir, database_url=db.engine.url.render_as_string(hide_password=False),
                           store_factory=lambda session: build_storage(session=session), signing_dir=signing_dir(),
                           signing_key=setting("QLVB_BACKUP_KEY"),
                           upload_dir=Path(current_app.config["QLVB_UPLOAD_DIR"]), force=force)
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"Đã kiểm tra {len(manifest['files'])} mã SHA-256 và khôi phục bản sao lưu lập lúc "
               f"{manifest['created_at']}.")


@qlvb.group("audit")
def audit_group() -> None:
    """The audit log."""


@audit_group.command("export")
@click.option("--out", "out_file", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--agency", "agency_code", default=None, help="Mã cơ quan (mặc định: mọi cơ quan).")
@click.option("--user", default=None)
@click.option("--kind", default=None)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None)
@with_appcontext
def audit_export_cmd(out_file: Path, agency_code: str | None, user: str | None, kind: str | None,
                     since: dt.datetime | None, until: dt.datetime | None) -> None:
    """Export audit events to CSV or XLSX (by the file's extension)."""
    from app.accounts.audit import record_event
    from app.accounts.audit_queries import AuditFilter, export_csv, export_xlsx
    from app.tenancy.queries import agency_by_code

    agency_id = None
    if agency_code:
        ref = agency_by_code(agency_code)
        if ref is None:
            raise click.ClickException(f"Không có cơ quan mã “{agency_code}”.")
        agency_id = ref.id

    def vn(day: dt.datetime | None, plus: int = 0) -> dt.datetime | None:
        return None if day is None else (day + dt.timedelta(days=plus)).replace(tzinfo=clock.VN_TZ).astimezone(dt.UTC)

    flt = AuditFilter(agency_id=agency_id, user=user, kind=kind, since=vn(since), until=vn(until, 1))
    body = export_xlsx(flt) if out_file.suffix.lower() == ".xlsx" else export_csv(flt)
    out_file.write_bytes(body)
    record_event("export", username="cli", target_type="audit_log", message=str(out_file))
    db.session.commit()
    click.echo(f"Đã ghi {out_file} ({len(body)} byte).")


@qlvb.group("maintenance")
def maintenance_group() -> None:
    """Maintenance notices (Art 10.1)."""


@maintenance_group.command("notify")
@with_appcontext
def maintenance_notify_cmd() -> None:
    """E-mail every active official about scheduled windows not yet announced (run it from cron)."""
    from app.accounts.maintenance import SmtpSettings, send_maintenance_notices

    cfg = current_app.config
    try:
        sent = send_maintenance_notices(clock.now(), SmtpSettings(cfg["QLVB_SMTP_HOST"], int(cfg["QLVB_SMTP_PORT"]),
                                                                  cfg["QLVB_MAIL_FROM"]))
    except DomainError as exc:
        raise _fail(exc) from exc
    db.session.commit()
    click.echo(f"Đã gửi {sent} thư thông báo bảo trì.")
