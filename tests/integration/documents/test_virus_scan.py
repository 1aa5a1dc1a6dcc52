"""Uploads are scanned by a real clamd (Debian clamav-daemon) when QLVB_CLAMD is set: EICAR is refused.

The daemon runs on a Unix socket in the test's folder with a one-signature database (the EICAR test string);
production points QLVB_CLAMD at the system daemon whose databases freshclam keeps current.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.documents.attachments import UploadInfo, check_file
from app.documents.errors import AttachmentRefusedError

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
BIG = 10 * 1024 * 1024

pytestmark = pytest.mark.skipif(not Path(CLAMD).exists(), reason="clamav-daemon is not installed (make system)")


@pytest.fixture(scope="module")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("clamd")
    (work / "db").mkdir()
    (work / "db" / "eicar.ndb").write_text(f"Eicar-Test-Signature:0:*:{EICAR.hex()}\n")
    sock = work / "clamd.sock"
    (work / "clamd.conf").write_text(
        f"LocalSocket {sock}\nDatabaseDirectory {work / 'db'}\nForeground yes\nLogFile {work / 'clamd.log'}\n"
        f"TemporaryDirectory {work}\nStreamMaxLength 60M\n")
    proc = subprocess.Popen([CLAMD, "-c", str(work / "clamd.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):  # up to 20 s for the daemon to load its database and listen
            if sock.exists():
                try:
                    with socket.socket(socket.AF_UNIX) as probe:
                        probe.connect(str(sock))
                    break
                except OSError:
                    pass
            time.sleep(0.1)
        else:
            pytest.fail("clamd did not start: " + (work / "clamd.log").read_text(errors="replace")[-800:])
        yield str(sock)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_eicar_is_refused_and_clean_files_pass(app, clamd, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "QLVB_CLAMD", clamd)
    with pytest.raises(AttachmentRefusedError, match="phát hiện mã độc") as info:
        check_file(UploadInfo("thu-nghiem.txt", EICAR), max_bytes=BIG)
    assert "Eicar-Test-Signature" in info.value.message
    assert check_file(UploadInfo("ghi-chu.txt", "Giấy mời họp".encode()), max_bytes=BIG).content_type == "text/plain"


def test_a_configured_scanner_that_is_down_refuses_uploads(app, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "QLVB_CLAMD", str(tmp_path / "no-such.sock"))
    with pytest.raises(AttachmentRefusedError, match="Chưa kiểm tra được virus"):
        check_file(UploadInfo("ghi-chu.txt", b"Giay moi hop"), max_bytes=BIG)


def test_the_whole_upload_path_scans(app, clamd, monkeypatch, office) -> None:
    from app.documents import services as documents
    from tests.integration.documents.conftest import incoming_data, upload_files

    monkeypatch.setitem(app.config, "QLVB_CLAMD", clamd)
    o = office()
    before = upload_files(app)
    with pytest.raises(AttachmentRefusedError, match="mã độc"):
        documents.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(),
                                    files=[UploadInfo("eicar.txt", EICAR)])
    assert upload_files(app) == before
