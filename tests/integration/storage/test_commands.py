"""`flask qlvb storage check|migrate|sweep` and `backup`/`restore` on deployments of their own (child processes):
files migrated local → database → S3, checked in each; a backup of each store restores into an empty database,
store and signing folder, and `storage check` passes there; damage is reported, and a backup refuses it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.deployment import new_deployment

pytestmark = pytest.mark.slow
KINDS = ("local", "database", "s3")


def _ok(result: dict[str, Any]) -> str:
    assert result["code"] == 0, result["output"]
    return str(result["output"])


def _failed(result: dict[str, Any]) -> str:
    assert result["code"] != 0, result["output"]
    return str(result["output"])


def _signing_files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, s3_server: Any) -> Any:
    """One deployment, seeded on the folder store, migrated to the database and to S3, backed up from each."""
    root = tmp_path_factory.mktemp("source")
    with new_deployment(root / "dep", s3=s3_server) as dep:
        (dep.signing_dir / "isotttt" / "users").mkdir(parents=True)
        (dep.signing_dir / "isotttt" / "agency.p12").write_bytes(b"PKCS12 " + bytes(range(256)))
        (dep.signing_dir / "isotttt" / "users" / "giamdoc@isotttt.vn.p12").write_bytes(b"PKCS12 ca nhan")
        backups = {kind: root / f"backup-{kind}" for kind in KINDS}
        steps: list[dict[str, Any]] = [
            {"init": True},
            {"seed": "vanthu@isotttt.test.vn"},
            {"cli": ["storage", "check"]},
            {"cli": ["storage", "migrate", "--to", "database"]},
            {"cli": ["storage", "migrate", "--to", "database"]},
            {"config": {"QLVB_STORAGE": "database"}},
            {"cli": ["storage", "check"]},
            {"cli": ["storage", "migrate", "--to", "s3"]},
            {"config": {"QLVB_STORAGE": "s3"}},
            {"cli": ["storage", "check", "--quick"]},
            {"cli": ["storage", "check"]},
        ]
        for kind in KINDS:
            steps += [{"config": {"QLVB_STORAGE": kind}}, {"cli": ["backup", "--out", str(backups[kind])]}]
        results = dep.run(steps)
        yield {"dep": dep, "backups": backups, "seed": results[1], "results": results}


def test_every_named_file_is_checked_then_migrated_and_verified_in_each_store(source) -> None:
    r = source["results"]
    keys = source["seed"]["keys"]
    assert len(keys) == 3  # two attachments and an exchange file
    assert f"Đủ {len(keys)} tệp" in _ok(r[2]) and "mã SHA-256" in r[2]["output"]
    assert f"Đã chép {len(keys)} tệp" in _ok(r[3])
    assert "Đã chép 0 tệp" in _ok(r[4]) and f"{len(keys)} tệp đã có sẵn" in r[4]["output"]  # idempotent
    assert "cơ sở dữ liệu" in _ok(r[6]) and f"Đủ {len(keys)} tệp" in r[6]["output"]
    assert f"Đã chép {len(keys)} tệp" in _ok(r[7]) and "S3" in r[7]["output"]
    assert "đúng kích thước, trong S3" in _ok(r[9])
    assert f"Đủ {len(keys)} tệp" in _ok(r[10])
    for offset, _kind in enumerate(KINDS):
        assert "Đã sao lưu cơ sở dữ liệu, 3 tệp lưu trữ và 2 tệp khóa ký số" in _ok(r[12 + 2 * offset])


@pytest.mark.parametrize("kind", KINDS)
def test_a_backup_of_each_store_restores_into_an_empty_deployment_and_checks_clean(source, kind, tmp_path,
                                                                                   s3_server) -> None:
    backup = source["backups"][kind]
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["storage"] == {"kind": kind, "blobs": 3} and manifest["signing_files"] == 2
    blob_files = [name for name in manifest["files"] if name.startswith("files/")]
    assert len(blob_files) == (0 if kind == "database" else 3)  # the database store's files are in the dump
    with new_deployment(tmp_path / "target", s3=s3_server) as target:
        r = target.run([{"config": {"QLVB_STORAGE": kind}}, {"cli": ["restore", "--from", str(backup)]},
                        {"cli": ["storage", "check"]}, {"keys": kind}])
        assert "khôi phục bản sao lưu" in _ok(r[1])
        assert "Đủ 3 tệp" in _ok(r[2])
        assert r[3] == sorted(source["seed"]["keys"])
        assert _signing_files(target.signing_dir) == _signing_files(source["dep"].signing_dir)


@pytest.mark.parametrize("kind", KINDS)
def test_the_restore_drill_of_each_store_finds_every_table_and_file_equal(source, kind) -> None:
    """`restore --verify` on the live deployment: scratch database and store, nothing live touched."""
    r = source["dep"].run([{"config": {"QLVB_STORAGE": kind}},
                           {"cli": ["restore", "--from", str(source["backups"][kind]), "--verify"]},
                           {"cli": ["storage", "check"]}])
    out = _ok(r[1])
    assert "Diễn tập khôi phục đạt:" in out and "3 tệp lưu trữ và 2 tệp khóa ký số khớp" in out
    assert "Đủ 3 tệp" in _ok(r[2])


def test_a_database_store_backup_restores_onto_a_folder_store(source, tmp_path) -> None:
    with new_deployment(tmp_path / "target") as target:
        r = target.run([{"cli": ["restore", "--from", str(source["backups"]["database"])]},
                        {"cli": ["storage", "check"]}])
        _ok(r[0])
        assert "Đủ 3 tệp" in _ok(r[1]) and str(target.upload_dir) in r[1]["output"]


def test_restore_refuses_a_deployment_that_is_not_empty(source, tmp_path) -> None:
    with new_deployment(tmp_path / "target") as target:
        (target.signing_dir / "isotttt").mkdir(parents=True)
        (target.signing_dir / "isotttt" / "agency.p12").write_bytes(b"khoa dang dung")
        (r,) = target.run([{"cli": ["restore", "--from", str(source["backups"]["local"])]}])
        assert "Thư mục khóa ký số" in _failed(r) and "đã có tệp" in r["output"]
        assert (target.signing_dir / "isotttt" / "agency.p12").read_bytes() == b"khoa dang dung"


@pytest.mark.parametrize(("kind", "how", "says"), [
    ("local", "corrupt", "sai mã SHA-256"), ("database", "delete", "thiếu trong kho lưu trữ"),
    ("s3", "corrupt", "sai mã SHA-256"), ("local", "delete", "thiếu trong kho lưu trữ"),
])
def test_damage_fails_the_check_and_the_backup_with_the_file_and_its_row(source, kind, how, says, tmp_path) -> None:
    key = source["seed"]["keys"][0]
    out = tmp_path / "refused-backup"
    other = "s3" if kind != "s3" else "local"
    # Afterwards the file is put back from another store, for the next test.
    repair = [{"damage": [kind, key, "delete"]}] if how == "corrupt" else []
    r = source["dep"].run([{"config": {"QLVB_STORAGE": kind}}, {"damage": [kind, key, how]},
                           {"cli": ["storage", "check"]}, {"cli": ["backup", "--out", str(out)]},
                           *repair, {"config": {"QLVB_STORAGE": other}}, {"cli": ["storage", "migrate", "--to", kind]}])
    check, refused = _failed(r[2]), _failed(r[3])
    assert key in check and says in check and "attachment" in check
    assert "Sao lưu thất bại" in refused and "Backup failed" in refused and key in refused
    assert not out.exists()  # nothing that could pass for a backup
    assert "Đã chép 1 tệp" in _ok(r[-1])


def test_sweep_removes_only_unnamed_files_past_the_grace_period(source) -> None:
    r = source["dep"].run([
        {"config": {"QLVB_STORAGE": "local"}}, {"orphan": True},
        {"cli": ["storage", "sweep", "--grace-hours", "24"]},
        {"freeze_hours": 48}, {"cli": ["storage", "sweep", "--grace-hours", "24", "--dry-run"]},
        {"cli": ["storage", "sweep", "--grace-hours", "24"]}, {"freeze_hours": None},
        {"keys": "local"}, {"cli": ["storage", "check"]},
    ])
    orphan = r[1]
    assert "Đã xóa 0 tệp" in _ok(r[2]) and "giữ 1 tệp chưa quá 24 giờ" in r[2]["output"]
    assert "Sẽ xóa 1 tệp" in _ok(r[4])
    assert "Đã xóa 1 tệp" in _ok(r[5])
    assert orphan not in r[7] and set(source["seed"]["keys"]) <= set(r[7])
    _ok(r[8])
