"""The restore drill: back up, change the live data, restore the backup into scratch copies and compare every table
and file with what the backup recorded; a backup whose content differs from its record fails, naming the table;
retention keeps the newest backups only."""

from __future__ import annotations

import json
import os
import time

from sqlalchemy import func, select

from app.extensions import db
from app.tenancy.models import Staff


def _staff_count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Staff)) or 0)


def test_the_drill_restores_into_scratch_copies_and_finds_every_table_and_file_equal(app, tmp_path, make_agency,
                                                                                      make_account) -> None:
    agency = make_agency()
    make_account(agency.code, ["clerk"], name="Lê Thị Diễn Tập")
    db.session.commit()
    runner = app.test_cli_runner()
    out = tmp_path / "qlvb-1"
    made = runner.invoke(args=["qlvb", "backup", "--out", str(out)])
    assert made.exit_code == 0, made.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tables"]["staff"]["rows"] >= 1 and "document" in manifest["tables"]
    # Life goes on after the backup: the drill compares the restored copy with the backup, not with today.
    make_account(agency.code, ["specialist"], name="Người Đến Sau")
    db.session.commit()
    live = _staff_count()
    drilled = runner.invoke(args=["qlvb", "restore", "--from", str(out), "--verify"])
    assert drilled.exit_code == 0, drilled.output
    assert "Diễn tập khôi phục đạt:" in drilled.output
    assert f"{len(manifest['tables'])} bảng" in drilled.output
    db.session.expire_all()
    assert _staff_count() == live  # nothing live was touched


def test_a_backup_that_does_not_hold_what_it_recorded_fails_the_drill_naming_the_table(app, tmp_path) -> None:
    runner = app.test_cli_runner()
    out = tmp_path / "qlvb-2"
    assert runner.invoke(args=["qlvb", "backup", "--out", str(out)]).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    recorded = manifest["tables"]["staff"]["rows"]
    manifest["tables"]["staff"]["rows"] = recorded + 1  # as if the dump had lost a row
    (out / "manifest.json").write_text(json.dumps(manifest))
    drilled = runner.invoke(args=["qlvb", "restore", "--from", str(out), "--verify"])
    assert drilled.exit_code != 0
    assert "Diễn tập khôi phục thất bại: 1 khác biệt" in drilled.output
    assert f"bảng staff: {recorded} dòng, bản sao lưu ghi {recorded + 1} dòng" in drilled.output


def test_retention_keeps_the_newest_backups_and_nothing_else_is_removed(app, tmp_path) -> None:
    runner = app.test_cli_runner()
    root = tmp_path / "backups"
    root.mkdir()
    for name in ("qlvb-a", "qlvb-b", "qlvb-c"):
        assert runner.invoke(args=["qlvb", "backup", "--out", str(root / name)]).exit_code == 0
        time.sleep(0.01)
    (root / "ghi-chu").mkdir()
    (root / "ghi-chu" / "readme.txt").write_text("không phải bản sao lưu")
    pruned = runner.invoke(args=["qlvb", "backup-prune", "--root", str(root), "--keep", "2"])
    assert pruned.exit_code == 0, pruned.output
    assert "đã xóa 1 bản cũ: qlvb-a" in pruned.output
    assert sorted(os.listdir(root)) == ["ghi-chu", "qlvb-b", "qlvb-c"]
    refused = runner.invoke(args=["qlvb", "backup-prune", "--root", str(root), "--keep", "0"])
    assert refused.exit_code != 0 and sorted(os.listdir(root)) == ["ghi-chu", "qlvb-b", "qlvb-c"]
