"""`flask qlvb storage migrate|check|sweep`: the file store, checked, moved between kinds, cleaned."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.core.errors import DomainError
from app.documents.storage import KINDS
from app.extensions import db

from .main import qlvb
from .ops import _fail


@qlvb.group("storage")
def storage_group() -> None:
    """Stored files (QLVB_STORAGE: local, database or s3)."""


@storage_group.command("check")
@click.option("--quick", is_flag=True, help="Chỉ kiểm tra có tệp và đúng kích thước, không đọc lại nội dung.")
@with_appcontext
def check_cmd(quick: bool) -> None:
    """Every blob a row names is in the store, with the right size and SHA-256; exit 1 and list what is not."""
    from app.documents.storage import default_storage
    from app.ops.storage import check_blobs

    try:
        store = default_storage()
        result = check_blobs(db.session, store, quick=quick)
    except DomainError as exc:
        raise _fail(exc) from exc
    db.session.rollback()
    if result.problems:
        raise click.ClickException("\n  - ".join([
            f"Kho lưu trữ có {len(result.problems)} lỗi trên {result.blobs} tệp ({store.describe()}) / "
            f"{len(result.problems)} problem(s) in {result.blobs} stored files:", *result.problems]))
    what = "kích thước" if quick else "kích thước và mã SHA-256"
    click.echo(f"Đủ {result.blobs} tệp ({result.bytes / 1e6:.1f} MB), đúng {what}, trong {store.describe()}.")


@storage_group.command("migrate")
@click.option("--to", "to_kind", required=True, type=click.Choice(KINDS), help="Loại kho đích.")
@click.option("--from", "from_kind", type=click.Choice(KINDS), default=None,
              help="Loại kho nguồn (mặc định: QLVB_STORAGE hiện tại).")
@with_appcontext
def migrate_cmd(to_kind: str, from_kind: str | None) -> None:
    """Copy every referenced blob into another store, verified; run again to resume. Then set QLVB_STORAGE."""
    from app.accounts.audit import record_event
    from app.documents.storage import build_storage
    from app.ops.storage import migrate_blobs

    def progress(result: object) -> None:
        copied = getattr(result, "copied", 0)
        if copied % 100 == 0:
            click.echo(f"  … đã chép {copied} tệp")

    try:
        source, target = build_storage(from_kind), build_storage(to_kind)
        result = migrate_blobs(db.session, source, target, progress=progress)
    except DomainError as exc:
        raise _fail(exc) from exc
    record_event("storage_migrate", username="cli", message=f"{source.describe()} -> {target.describe()}",
                 detail={"copied": result.copied, "present": result.present, "failed": len(result.failed)})
    db.session.commit()
    summary = (f"Đã chép {result.copied} tệp ({result.bytes / 1e6:.1f} MB) từ {source.describe()} sang "
               f"{target.describe()}; {result.present} tệp đã có sẵn.")
    if result.failed:
        raise click.ClickException("\n  - ".join([
            summary, f"{len(result.failed)} tệp không chép được / {len(result.failed)} file(s) not copied:",
            *result.failed]))
    click.echo(summary)
    click.echo(f"Kiểm tra bằng `QLVB_STORAGE={to_kind} flask qlvb storage check`, rồi đặt QLVB_STORAGE={to_kind}.")


@storage_group.command("sweep")
@click.option("--grace-hours", type=click.FloatRange(min=1), default=24, show_default=True,
              help="Chỉ xóa tệp không ai dùng đến sau ngần ấy giờ.")
@click.option("--dry-run", is_flag=True, help="Chỉ liệt kê, không xóa.")
@with_appcontext
def sweep_cmd(grace_hours: float, dry_run: bool) -> None:
    """Remove blobs no row names (left by failed transactions) once older than the grace period."""
    from app.accounts.audit import record_event
    from app.documents.storage import default_storage
    from app.ops.storage import sweep_blobs

    try:
        store = default_storage()
        result = sweep_blobs(db.session, store, grace_hours=grace_hours, dry_run=dry_run)
    except DomainError as exc:
        raise _fail(exc) from exc
    if not dry_run:
        record_event("storage_sweep", username="cli", message=store.describe(),
                     detail={"removed": result.removed, "scanned": result.scanned})
        db.session.commit()
    verb = "Sẽ xóa" if dry_run else "Đã xóa"
    click.echo(f"{verb} {result.removed} tệp không còn dùng trong {result.scanned} tệp của {store.describe()}; "
               f"giữ {result.young} tệp chưa quá {grace_hours:g} giờ.")
