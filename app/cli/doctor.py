"""`flask qlvb doctor`: check a deployment the way SoICT's on-call engineer would, one line per item."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from .main import qlvb


@qlvb.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON (cho công cụ giám sát).")
@with_appcontext
def doctor_cmd(as_json: bool) -> None:
    """Check database, migrations, broker, storage, signing folder, trust roots, secret key and processes."""
    from app.ops.checks import doctor

    results = doctor()
    failed = [r for r in results if not r.ok]
    if as_json:
        click.echo(json.dumps({"ok": not failed, "checks": {r.name: r.as_dict() for r in results}},
                              ensure_ascii=False, indent=2))
    else:
        click.echo("Kiểm tra triển khai QLVB:")
        for r in results:
            mark = "[x]" if r.ok else "[ ]"
            state = "đạt" if r.ok else "CHƯA ĐẠT"
            click.echo(f"  {mark} {r.label}: {state}{' — ' + r.detail if r.detail else ''}")
        if failed:
            click.echo(f"{len(failed)}/{len(results)} mục chưa đạt.")
        else:
            click.echo(f"Tất cả {len(results)} mục đều đạt.")
    if failed:
        sys.exit(1)
