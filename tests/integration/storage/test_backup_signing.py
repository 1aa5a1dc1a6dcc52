"""The signing folder in a backup: sealed with QLVB_BACKUP_KEY (no key or signature image readable in the backup),
restored only with the same key, and a wrong key or a changed byte refuses the restore before anything is written."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from app.documents.storage import LocalStorage, default_storage
from app.extensions import db
from app.ops.backup import BackupCorruptedError, backup, restore, verify
from app.ops.sealed import SealedOpenError
from tests.support.db import fresh_database_url

KEY = "Khóa sao lưu của Sở TTTT " + secrets.token_hex(8)


@pytest.fixture
def signing(tmp_path: Path) -> Path:
    folder = tmp_path / "signing"
    (folder / "isotttt" / "users").mkdir(parents=True)
    (folder / "isotttt" / "agency.p12").write_bytes(b"PKCS12-AGENCY-" + os.urandom(3000))
    (folder / "isotttt" / "users" / "giamdoc@isotttt.vn.png").write_bytes(b"\x89PNG-CHU-KY-" + os.urandom(500))
    return folder


def _backup(tmp_path: Path, signing: Path, key: str | None) -> Path:
    db.session.remove()
    out = tmp_path / f"backup-{secrets.token_hex(3)}"
    backup(out, database_url=db.engine.url.render_as_string(hide_password=False), store=default_storage(),
           signing_dir=signing, signing_key=key)
    return out


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_sealed_signing_folder_restores_only_with_its_key(app, tmp_path, signing) -> None:
    out = _backup(tmp_path, signing, KEY)
    manifest = verify(out)
    assert manifest["signing_sealed"] is True and manifest["signing_files"] == 2
    assert not (out / "signing").exists()
    everything = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert b"PKCS12-AGENCY-" not in everything and b"CHU-KY" not in everything

    for key, message in ((None, "hãy đặt QLVB_BACKUP_KEY"), ("khóa sai", "sai QLVB_BACKUP_KEY")):
        target = tmp_path / f"t-{secrets.token_hex(2)}"
        with pytest.raises(SealedOpenError, match=message):
            restore(out, database_url=f"sqlite:///{target / 'never.sqlite3'}", signing_key=key,
                    store_factory=lambda _s, target=target: LocalStorage(target / "files"),
                    signing_dir=target / "signing")
        assert not target.exists()  # refused before anything was written

    target = tmp_path / "restored"
    target.mkdir()
    with fresh_database_url(target) as url:  # the backup's kind of database, empty
        restore(out, database_url=url.replace("postgresql://", "postgresql+psycopg://"), signing_key=KEY,
                store_factory=lambda _s: LocalStorage(target / "files"), signing_dir=target / "signing")
    assert _files(target / "signing") == _files(signing)
    assert all((p.stat().st_mode & 0o077) == 0 for p in (target / "signing").rglob("*") if p.is_file())


def test_a_changed_byte_in_the_sealed_folder_is_refused(app, tmp_path, signing) -> None:
    out = _backup(tmp_path, signing, KEY)
    sealed = out / "signing.sealed"
    raw = bytearray(sealed.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    sealed.write_bytes(bytes(raw))
    with pytest.raises(BackupCorruptedError, match="hỏng hoặc đã bị sửa đổi"):  # the manifest's checksum first
        verify(out)


def test_without_a_key_the_folder_is_copied_as_it_is(app, tmp_path, signing) -> None:
    out = _backup(tmp_path, signing, None)
    assert verify(out)["signing_sealed"] is False
    assert _files(out / "signing") == _files(signing)
