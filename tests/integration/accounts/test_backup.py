"""Backup and restore (Art 10): into a FRESH database, then every document, task and file compares equal."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import MetaData, create_engine, select

from app.core.errors import DomainError
from app.extensions import db
from app.ops.backup import BackupCorruptedError, backup, restore, verify

COMPARED = ("agency", "department", "staff", "ab_user", "process_instance", "human_task", "workflow_task_state",
            "document", "attachment", "audit_event")


def _rows(engine, tables):
    meta = MetaData()
    meta.reflect(engine, only=[t for t in tables if engine.dialect.has_table(engine.connect(), t)])
    out = {}
    with engine.connect() as conn:
        for name, table in meta.tables.items():
            key = [c for c in table.primary_key.columns] or list(table.columns)
            out[name] = [tuple(r) for r in conn.execute(select(table).order_by(*key))]
    return out


@pytest.fixture
def fresh_url(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    name = f"qlvb_restore_{secrets.token_hex(4)}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = plain.rsplit("/", 1)[0]
    yield f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_restores_into_a_fresh_database_identically(app, tmp_path, fresh_url, make_agency, make_account,
                                                            open_task_for):
    a = make_agency()
    acc = make_account(a.code, ["specialist"], name="Đỗ Thị Sao Lưu")
    open_task_for(a.id, acc.user_id)
    uploads = Path(app.config["QLVB_UPLOAD_DIR"])
    (uploads / "2026" / a.code).mkdir(parents=True, exist_ok=True)
    (uploads / "2026" / a.code / "Công văn số 12.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(4096))
    db.session.commit()
    db.session.remove()
    source_url = db.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "backup"
    result = backup(out, database_url=source_url, upload_dir=uploads, alembic_heads=["x"])
    assert result.files >= 1 and (out / "manifest.json").exists()
    restored_files = tmp_path / "restored-files"
    restore(out, database_url=fresh_url, upload_dir=restored_files)
    src, dst = create_engine(source_url), create_engine(fresh_url)
    try:
        before, after = _rows(src, COMPARED), _rows(dst, COMPARED)
    finally:
        src.dispose()
        dst.dispose()
    assert set(before) == set(after) and {"staff", "human_task", "process_instance"} <= set(before)
    for table in before:
        assert before[table] == after[table], table
    assert any("Đỗ Thị Sao Lưu" in str(r) for r in after["staff"])
    originals = sorted(p.relative_to(uploads) for p in uploads.rglob("*") if p.is_file())
    copies = sorted(p.relative_to(restored_files) for p in restored_files.rglob("*") if p.is_file())
    assert originals == copies
    assert all((uploads / p).read_bytes() == (restored_files / p).read_bytes() for p in originals)
    # Restoring again over the now-filled database is refused without --force.
    with pytest.raises(DomainError):
        restore(out, database_url=fresh_url, upload_dir=tmp_path / "other")


def test_a_corrupted_or_tampered_backup_is_refused_before_anything_is_touched(app, tmp_path):
    uploads = tmp_path / "up"
    (uploads / "a").mkdir(parents=True)
    (uploads / "a" / "f.txt").write_text("nội dung")
    db.session.remove()
    out = tmp_path / "b"
    backup(out, database_url=db.engine.url.render_as_string(hide_password=False), upload_dir=uploads)
    verify(out)
    (out / "files" / "a" / "f.txt").write_text("nội dung bị sửa")
    (out / "extra.sql").write_text("DROP TABLE staff;")
    target = tmp_path / "target-files"
    with pytest.raises(BackupCorruptedError) as info:
        restore(out, database_url=f"sqlite:///{tmp_path / 'never.sqlite3'}", upload_dir=target)
    text = str(info.value)
    assert "sai mã kiểm tra SHA-256" in text and "extra.sql" in text
    assert not target.exists() and not (tmp_path / "never.sqlite3").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["format"] = "khác"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BackupCorruptedError):
        verify(out)
