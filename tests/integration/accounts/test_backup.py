"""Backup and restore (Art 10): into a FRESH database, then every document, task, stored file and key compares equal."""

from __future__ import annotations

import json
import os
import secrets

import psycopg
import pytest
from sqlalchemy import MetaData, create_engine, select

from app.core.errors import DomainError
from app.documents.storage import LocalStorage, default_storage
from app.extensions import db
from app.ops.backup import BackupCorruptedError, backup, restore, verify
from app.ops.storage import referenced_keys

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


def _exchange_file(agency_id: int, user_id: int, other_user_id: int, name: str, data: bytes) -> None:
    """A real row that names a stored file (a file sent with an exchange message)."""
    from app.exchange import services as exchange
    from app.exchange.info import FileInput
    from app.workflow.info import ActorRef

    actor = ActorRef(user_id=user_id, agency_id=agency_id, roles=frozenset({"specialist"}))
    exchange.start_thread(actor, title="Sao lưu", body="Tệp kèm theo", participant_user_ids=[other_user_id],
                          files=[FileInput(name, data)])


def test_backup_restores_into_a_fresh_database_identically(app, tmp_path, fresh_url, make_agency, make_account,
                                                            open_task_for):
    a = make_agency()
    acc = make_account(a.code, ["specialist"], name="Đỗ Thị Sao Lưu")
    other = make_account(a.code, ["specialist"], name="Vũ Văn Nhận")
    open_task_for(a.id, acc.user_id)
    _exchange_file(a.id, acc.user_id, other.user_id, "Công văn số 12.txt",
                   ("Nội dung công văn số 12 " + secrets.token_hex(2048)).encode())
    db.session.commit()
    db.session.remove()
    store = default_storage()
    signing = tmp_path / "signing"
    (signing / a.code).mkdir(parents=True)
    (signing / a.code / "agency.p12").write_bytes(os.urandom(2048))
    source_url = db.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "backup"
    result = backup(out, database_url=source_url, store=store, signing_dir=signing, alembic_heads=["x"])
    assert result.files >= 1 and result.signing_files == 1 and (out / "manifest.json").exists()
    restored_files, restored_signing = tmp_path / "restored-files", tmp_path / "restored-signing"
    restore(out, database_url=fresh_url, store_factory=lambda _s: LocalStorage(restored_files),
            signing_dir=restored_signing)
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
    named = list(referenced_keys(db.session))
    assert named and all(LocalStorage(restored_files).get(k) == store.get(k) for k in named)
    assert (restored_signing / a.code / "agency.p12").read_bytes() == (signing / a.code / "agency.p12").read_bytes()
    # Restoring again over the now-filled database is refused without --force.
    with pytest.raises(DomainError):
        restore(out, database_url=fresh_url, store_factory=lambda _s: LocalStorage(tmp_path / "other"))


def test_a_corrupted_or_tampered_backup_is_refused_before_anything_is_touched(app, tmp_path):
    signing = tmp_path / "signing"
    (signing / "a").mkdir(parents=True)
    (signing / "a" / "agency.p12").write_bytes(b"khoa bi mat")
    db.session.remove()
    out = tmp_path / "b"
    backup(out, database_url=db.engine.url.render_as_string(hide_password=False), store=default_storage(),
           signing_dir=signing)
    verify(out)
    (out / "signing" / "a" / "agency.p12").write_bytes(b"khoa da bi thay")
    (out / "extra.sql").write_text("DROP TABLE staff;")
    target = tmp_path / "target-files"
    with pytest.raises(BackupCorruptedError) as info:
        restore(out, database_url=f"sqlite:///{tmp_path / 'never.sqlite3'}",
                store_factory=lambda _s: LocalStorage(target), signing_dir=tmp_path / "target-signing")
    text = str(info.value)
    assert "sai mã kiểm tra SHA-256" in text and "extra.sql" in text
    assert not target.exists() and not (tmp_path / "never.sqlite3").exists()
    assert not (tmp_path / "target-signing").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["format"] = "khác"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BackupCorruptedError):
        verify(out)
