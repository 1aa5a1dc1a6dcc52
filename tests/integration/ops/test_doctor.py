"""`flask qlvb doctor` prints a Vietnamese checklist and exits 1 when any item fails."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from .test_endpoints import configured


def _lock_down(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode & ~stat.S_IRWXO)


def test_doctor_passes_a_sound_deployment_and_names_each_failure(app: Any, signing: Any) -> None:
    signing.install_agency("isotttt")
    folder = Path(app.config["QLVB_SIGNING_DIR"])
    _lock_down(folder)
    runner = app.test_cli_runner()
    with configured(QLVB_SMTP_HOST="127.0.0.1"):
        ok = runner.invoke(args=["qlvb", "doctor"])
        assert ok.exit_code == 0, ok.output
        assert ok.output.startswith("Kiểm tra triển khai QLVB:")
        for label in ("Cơ sở dữ liệu kết nối được", "Cơ sở dữ liệu đã nâng cấp đến phiên bản mới nhất",
                      "Kho lưu trữ tệp ghi được", "Thư mục khóa ký số chỉ tài khoản dịch vụ đọc được",
                      "Có chứng thư gốc tin cậy để kiểm tra chữ ký số", "SECRET_KEY được đặt",
                      "Mỗi cơ quan có quy trình văn bản đến và văn bản đi đã ban hành"):
            assert f"[x] {label}" in ok.output
        assert "Tất cả 9 mục đều đạt." in ok.output

        key = folder / "isotttt" / "agency.p12"
        key.chmod(0o644)  # a seal anyone on the machine can copy
        try:
            bad = runner.invoke(args=["qlvb", "doctor"])
            as_json = runner.invoke(args=["qlvb", "doctor", "--json"])
        finally:
            key.chmod(0o600)
    assert bad.exit_code == 1
    assert "[ ] Thư mục khóa ký số chỉ tài khoản dịch vụ đọc được: CHƯA ĐẠT" in bad.output
    assert "isotttt/agency.p12" in bad.output and "chmod -R o-rwx" in bad.output
    assert "1/9 mục chưa đạt." in bad.output
    report = json.loads(as_json.output)
    assert as_json.exit_code == 1 and report["ok"] is False and report["checks"]["signing"]["ok"] is False
    assert report["checks"]["database"]["ok"] is True


def test_doctor_reports_missing_trust_roots_and_a_broker_it_cannot_reach(app: Any, tmp_path: Path) -> None:
    from tests.support.cluster import free_port

    runner = app.test_cli_runner()
    empty = tmp_path / "trust"
    empty.mkdir()
    with configured(QLVB_TRUST_ROOTS=str(empty), QLVB_CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0",
                    QLVB_BROKER_CHECK_TIMEOUT=1):
        result = runner.invoke(args=["qlvb", "doctor"])
    assert result.exit_code == 1
    assert "[ ] Có chứng thư gốc tin cậy để kiểm tra chữ ký số: CHƯA ĐẠT" in result.output
    assert "[ ] Hàng đợi công việc (broker) kết nối được: CHƯA ĐẠT" in result.output
    assert os.fspath(empty) in result.output
