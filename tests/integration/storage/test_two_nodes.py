"""Two nodes of one deployment: a file stored through node A (this process) is downloaded, in ranges, from node B
(another process on the same database). With the database or S3 store it is there; with a folder per node it is
not, and node B says so in an ERROR line instead of a silent 404."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest

from app.documents import services
from app.documents.attachments import UploadInfo
from app.documents.storage import CHUNK, key_for
from app.extensions import db
from tests.integration.documents.conftest import incoming_data, office  # noqa: F401  (fixture)
from tests.integration.storage.test_downloads import _text
from tests.support.node import running_node

pytestmark = pytest.mark.slow


def _node_config(app: Any, settings: dict[str, str], tmp_path: Any) -> dict[str, Any]:
    keep = ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "QLVB_SIGNING_DIR", "QLVB_TRUST_ROOTS")
    return {**{k: app.config[k] for k in keep}, **settings, "QLVB_INSTANCE_DIR": str(tmp_path / "node-b"),
            "QLVB_UPLOAD_DIR": str(tmp_path / "node-b-files"), "QLVB_EMBEDDED_JOBS": False,
            "FAB_UPDATE_PERMS": False, "SERVER_NAME": None}


@pytest.mark.parametrize("kind", ["database", "s3", "local"])
def test_a_file_stored_on_node_a_is_downloaded_in_ranges_from_node_b(app, kind, use_storage, office, logged_in,  # noqa: F811
                                                                     tmp_path) -> None:
    settings = use_storage(kind)
    o = office(keys=False)
    data = _text(2 * CHUNK + 777)
    info = services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(),
                                      files=[UploadInfo("Biên bản.txt", data)])
    db.session.commit()
    (att,) = info.attachments
    clerk = o.accounts["clerk"]
    cookie = logged_in(clerk).client.get_cookie("session", domain=clerk.host)
    assert cookie is not None
    log = tmp_path / "node-b.log"
    with running_node(_node_config(app, settings, tmp_path), log) as node_b:
        request = urllib.request.Request(f"{node_b}/documents/files/{att.id}", headers={  # noqa: S310  (loopback)
            "Host": clerk.host, "Cookie": f"session={cookie.value}", "Range": f"bytes={CHUNK - 10}-{CHUNK + 9}"})
        if kind == "local":  # each node has its own folder: the file is not on node B
            with pytest.raises(urllib.error.HTTPError) as info404:
                urllib.request.urlopen(request, timeout=60)  # noqa: S310  (our loopback node)
            assert info404.value.code == 404
            assert "Không tìm thấy nội dung tệp" in info404.value.read().decode()
        else:
            with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310  (our loopback node)
                assert resp.status == 206 and resp.read() == data[CHUNK - 10:CHUNK + 10]
                assert resp.headers["Content-Range"] == f"bytes {CHUNK - 10}-{CHUNK + 9}/{len(data)}"
    text = log.read_text(errors="replace")
    if kind == "local":
        assert "ERROR" in text and f"missing blob {key_for(att.sha256)}" in text and f"attachment {att.id}" in text
    else:
        assert "missing blob" not in text
