"""Downloads on the real routes, for every store: streamed, Range (206/416), ETag (304), X-Accel-Redirect, and a
missing blob logged as an ERROR with its key and row while the user gets a Vietnamese 404 page."""

from __future__ import annotations

import contextvars
import hashlib
import logging
import secrets

import pytest
from sqlalchemy import func, select

from app.accounts.models import AuditEvent
from app.documents import services
from app.documents.attachments import UploadInfo
from app.documents.storage import CHUNK, build_storage, key_for
from app.extensions import db
from tests.integration.documents.conftest import incoming_data, office  # noqa: F401  (fixture)
from tests.integration.storage.conftest import KINDS

NAME_QUOTED = "B%C3%A1o%20c%C3%A1o%20qu%C3%BD%20IV.txt"  # "Báo cáo quý IV.txt", RFC 5987


def _text(size: int) -> bytes:
    line = f"Báo cáo tình hình triển khai phần mềm quản lý văn bản {secrets.token_hex(8)}.\n".encode()
    return (line * (size // len(line) + 1))[:size]


@pytest.fixture
def stored(office, use_storage, logged_in):  # noqa: F811
    """An incoming document with a 2.5 MiB text file in the chosen store, and its clerk logged in."""

    def make(kind: str):
        use_storage(kind)
        o = office(keys=False)
        data = _text(2 * CHUNK + CHUNK // 2)
        info = services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(),
                                          files=[UploadInfo("Báo cáo quý IV.txt", data)])
        db.session.commit()
        (att,) = info.attachments
        return att, data, logged_in(o.accounts["clerk"])

    return make


def _downloads(attachment_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.kind == "document_downloaded", AuditEvent.target_id == str(attachment_id))) or 0


@pytest.mark.parametrize("kind", KINDS)
def test_whole_ranged_and_conditional_downloads(stored, kind) -> None:
    att, data, client = stored(kind)
    url = f"/documents/files/{att.id}"
    etag = hashlib.sha256(data).hexdigest()

    request_context = contextvars.Context()
    whole = request_context.run(client.client.get, url, base_url=f"http://{client.host}", buffered=False)
    assert whole.status_code == 200 and whole.is_streamed  # chunks go out as read, never the whole file at once
    pieces = request_context.run(lambda: list(whole.iter_encoded()))
    assert b"".join(pieces) == data and max(len(p) for p in pieces) <= CHUNK
    assert whole.headers["ETag"] == f'"{etag}"' and whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["Content-Length"] == str(len(data))
    assert whole.headers["Content-Disposition"] == f"attachment; filename*=UTF-8''{NAME_QUOTED}"
    assert _downloads(att.id) == 1

    for header, (start, stop) in {"bytes=100-199": (100, 200), f"bytes={CHUNK - 5}-{CHUNK + 4}": (CHUNK - 5, CHUNK + 5),
                                  "bytes=-10": (len(data) - 10, len(data)), "bytes=0-": (0, len(data)),
                                  f"bytes={2 * CHUNK}-{10 * CHUNK}": (2 * CHUNK, len(data))}.items():
        part = client.get(url, headers={"Range": header})
        assert part.status_code == 206, header
        assert part.get_data() == data[start:stop], header
        assert part.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{len(data)}"
        assert part.headers["Content-Length"] == str(stop - start)
    assert _downloads(att.id) == 2  # only "bytes=0-" sent the file from its start again

    beyond = client.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    several = client.get(url, headers={"Range": "bytes=0-1,5-6"})
    assert several.status_code == 200 and several.get_data() == data  # several ranges: the whole file

    cached = client.get(url, headers={"If-None-Match": f'"{etag}"'})
    assert cached.status_code == 304 and cached.get_data() == b""
    changed = client.get(url, headers={"If-None-Match": '"' + "0" * 64 + '"'})
    assert changed.status_code == 200 and changed.get_data() == data
    stale_range = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"' + "1" * 64 + '"'})
    assert stale_range.status_code == 200 and stale_range.get_data() == data
    fresh_range = client.get(url, headers={"Range": "bytes=10-19", "If-Range": f'"{etag}"'})
    assert fresh_range.status_code == 206 and fresh_range.get_data() == data[10:20]
    assert _downloads(att.id) == 5  # + the whole file for several ranges, a changed ETag, a stale If-Range
    head = contextvars.Context().run(client.client.head, url, base_url=f"http://{client.host}")
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(data)) and head.get_data() == b""


def test_behind_nginx_the_local_store_answers_with_x_accel_redirect(app, stored, monkeypatch) -> None:
    att, _data, client = stored("local")
    monkeypatch.setitem(app.config, "QLVB_X_ACCEL_REDIRECT", "/protected/")
    resp = client.get(f"/documents/files/{att.id}")
    assert resp.status_code == 200 and resp.get_data() == b""
    assert resp.headers["X-Accel-Redirect"] == "/protected/" + key_for(att.sha256)
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert resp.headers["Content-Disposition"].endswith(NAME_QUOTED)
    assert _downloads(att.id) == 1
    assert client.get(f"/documents/files/{att.id}", headers={"If-None-Match": f'"{att.sha256}"'}).status_code == 304


def test_x_accel_redirect_is_not_used_for_stores_nginx_cannot_read(app, stored, monkeypatch) -> None:
    att, data, client = stored("database")
    monkeypatch.setitem(app.config, "QLVB_X_ACCEL_REDIRECT", "/protected/")
    resp = client.get(f"/documents/files/{att.id}")
    assert "X-Accel-Redirect" not in resp.headers and resp.get_data() == data


@pytest.mark.parametrize("kind", KINDS)
def test_a_missing_blob_is_an_error_line_for_the_admin_and_a_vietnamese_404_for_the_user(stored, kind,
                                                                                        caplog) -> None:
    att, data, client = stored(kind)
    store = build_storage()
    store.delete(key_for(att.sha256))
    db.session.commit()
    with caplog.at_level(logging.WARNING):
        resp = client.get(f"/documents/files/{att.id}")
    assert resp.status_code == 404
    page = resp.get_data(as_text=True)
    assert "Không tìm thấy nội dung tệp trong kho lưu trữ" in page and "quản trị viên" in page
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert any(key_for(att.sha256) in r.getMessage() and f"attachment {att.id}" in r.getMessage() for r in errors)
    assert _downloads(att.id) == 0
    store.put(data)  # put back: the session's database names it
    db.session.commit()


def test_files_of_assigned_work_stream_with_ranges_and_a_missing_one_names_its_row(use_storage, make_agency,
                                                                                   make_account, logged_in,
                                                                                   caplog) -> None:
    """The other file routes (assigned work, opinions) go through the same streamed download."""
    import datetime as dt
    import io
    import re

    from app.assignments.models import WorkFile
    from app.core import clock
    from app.tenancy.queries import departments_of

    use_storage("database")
    agency = make_agency()
    leader = make_account(agency.code, ["leader"], name="Phạm Văn Lãnh")
    specialist = make_account(agency.code, ["specialist"], department_code="nv", name="Đỗ Thị Lan")
    nv = next(d for d in departments_of(agency.id) if d.code == "nv")
    data = _text(CHUNK + 1000)
    client = logged_in(leader)
    resp = client.form_post("/assignments/new", {
        "title": "Rà soát danh mục hồ sơ", "description": "Theo Nghị định 30/2020/NĐ-CP.",
        "lead_user_id": str(specialist.user_id), "lead_department_id": str(nv.id),
        "deadline": (clock.today() + dt.timedelta(days=7)).strftime("%d/%m/%Y"),
        "files": (io.BytesIO(data), "danh_muc.txt")}, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[-800:]
    item_id = int(re.search(r"/assignments/(\d+)", resp.headers["Location"]).group(1))
    row = db.session.scalars(select(WorkFile).where(WorkFile.work_item_id == item_id)).one()
    url = f"/assignments/{item_id}/files/{row.id}"
    part = client.get(url, headers={"Range": f"bytes={CHUNK - 2}-{CHUNK + 1}"})
    assert part.status_code == 206 and part.get_data() == data[CHUNK - 2:CHUNK + 2]
    assert part.headers["ETag"] == f'"{row.sha256}"'

    build_storage().delete(row.storage_key)
    db.session.commit()
    with caplog.at_level(logging.WARNING):
        gone = client.get(url)
    assert gone.status_code == 404 and "Không tìm thấy nội dung tệp" in gone.get_data(as_text=True)
    assert any(r.levelno == logging.ERROR and row.storage_key in r.getMessage() and f"work_file {row.id}" in
               r.getMessage() for r in caplog.records)
    build_storage().put(data)  # put back: the session's database names it
    db.session.commit()
