"""The JSON API through HTTP: tokens per agency, scopes, revocation, rate limits, audit, files, the write path."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import func, select

from tests.integration.api.conftest import incoming_data


def _register(office: Any, sample_pdf: bytes) -> Any:
    from app.documents import services as ds
    from app.documents.attachments import UploadInfo
    from app.extensions import db

    doc = ds.register_incoming(office.agency_id, actor=office.actors["clerk"], data=incoming_data(),
                               files=[UploadInfo("cong-van.pdf", sample_pdf)])
    db.session.commit()
    return doc


def _audit_rows(kind: str, user_id: int) -> list[Any]:
    from app.accounts.models import AuditEvent
    from app.extensions import db

    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind,
                                                            AuditEvent.user_id == user_id)))


def test_lists_and_reads_a_document_of_its_agency(app, office, sample_pdf, api_caller) -> None:
    o = office()
    doc = _register(o, sample_pdf)
    caller = api_caller(o.code)
    listing = caller.get("/api/v1/documents/incoming?limit=10")
    assert listing.status_code == 200, listing.get_data(as_text=True)
    body = listing.get_json()
    assert [d["id"] for d in body["items"]] == [doc.id] and body["total"] == 1 and body["limit"] == 10
    assert body["items"][0]["number_notation"] == doc.number_notation
    assert caller.get(f"/api/v1/documents/incoming?register_id={doc.register_id}").get_json()["total"] == 1
    assert caller.get(f"/api/v1/documents/incoming?year={doc.year + 1}").get_json()["total"] == 0
    assert caller.get("/api/v1/documents/incoming?updated_since=2999-01-01T00:00:00").get_json()["total"] == 0
    assert caller.get("/api/v1/documents/incoming?updated_since=2000-01-01").get_json()["total"] == 1
    one = caller.get(f"/api/v1/documents/{doc.id}")
    assert one.status_code == 200 and one.get_json()["summary"] == doc.summary
    files = one.get_json()["attachments"]
    assert [f["filename"] for f in files] == ["cong-van.pdf"]
    assert files[0]["download_url"] == f"/api/v1/attachments/{files[0]['id']}/content"
    assert _audit_rows("document_viewed", caller.user_id)[0].target_id == str(doc.id)
    registers = caller.get("/api/v1/registers").get_json()["items"]
    assert doc.register_id in [r["id"] for r in registers]
    tasks = caller.get("/api/v1/tasks").get_json()
    assert tasks["total"] >= 1 and all(t["subject_id"] for t in tasks["items"])
    assert caller.get("/api/v1/exchange/outbox").get_json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert caller.get("/api/v1/exchange/inbox").status_code == 200


def test_download_with_range_etag_and_audit(app, office, sample_pdf, api_caller) -> None:
    o = office()
    doc = _register(o, sample_pdf)
    caller = api_caller(o.code, ("documents:read",))
    att = doc.attachments[0]
    full = caller.get(f"/api/v1/attachments/{att.id}/content")
    assert full.status_code == 200 and full.data == sample_pdf and full.headers["ETag"] == f'"{att.sha256}"'
    part = caller.get(f"/api/v1/attachments/{att.id}/content", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.data == sample_pdf[10:20]  # a later range: no second audit line
    same = caller.get(f"/api/v1/attachments/{att.id}/content", headers={"If-None-Match": f'"{att.sha256}"'})
    assert same.status_code == 304
    downloads = _audit_rows("document_downloaded", caller.user_id)
    assert len(downloads) == 1 and downloads[0].target_id == str(att.id) and downloads[0].detail["via"] == "api"


def test_another_agencys_token_and_documents_are_refused(app, office, sample_pdf, api_caller, client_for) -> None:
    a, b = office(), office()
    doc_b = _register(b, sample_pdf)
    caller_a = api_caller(a.code)
    # A's token on B's host: 401, nothing of B.
    on_b = client_for(f"{b.code}.localhost").get("/api/v1/documents/incoming", headers=caller_a.headers())
    assert on_b.status_code == 401 and on_b.get_json()["error"]["code"] == "unauthorized"
    assert "items" not in on_b.get_json()
    # B's document id on A's host with A's token: 404, as if it did not exist.
    assert caller_a.get(f"/api/v1/documents/{doc_b.id}").status_code == 404
    assert caller_a.get(f"/api/v1/attachments/{doc_b.attachments[0].id}/content").status_code == 404
    assert caller_a.get(f"/api/v1/documents/{doc_b.id}/deliveries").status_code == 404
    assert caller_a.get("/api/v1/documents/incoming").get_json()["total"] == 0


def test_no_token_bad_token_and_session_cookie_alone_are_401(app, office, api_caller, logged_in) -> None:
    o = office()
    caller = api_caller(o.code)
    none = caller.host.get("/api/v1/documents/incoming")
    assert none.status_code == 401 and none.headers["WWW-Authenticate"].startswith("Bearer")
    msg = none.get_json()["error"]["message"]
    assert "mã truy cập" in msg
    bad = caller.host.get("/api/v1/documents/incoming", headers={"Authorization": "Bearer qlvb_nope"})
    assert bad.status_code == 401
    # A clerk's browser session (cookie) never opens the API.
    browser = logged_in(o.accounts["clerk"])
    assert browser.get("/api/v1/documents/incoming").status_code == 401


def test_scopes_revocation_and_rotation(app, office, api_caller) -> None:
    from app.accounts.api_clients import revoke_api_client, rotate_api_client
    from app.extensions import db

    o = office()
    reader = api_caller(o.code, ("documents:read",))
    refused = reader.get("/api/v1/tasks")
    assert refused.status_code == 403 and "tasks:read" in refused.get_json()["error"]["message"]
    assert reader.get("/api/v1/exchange/outbox").status_code == 403
    assert reader.post("/api/v1/documents/incoming", data=incoming_data()).status_code == 403
    assert reader.get("/api/v1/documents/incoming").status_code == 200
    issued = rotate_api_client(o.agency_id, reader.client_id)
    db.session.commit()
    assert reader.get("/api/v1/documents/incoming").status_code == 401  # the old token is gone
    reader.token = issued.token
    assert reader.get("/api/v1/documents/incoming").status_code == 200
    revoke_api_client(o.agency_id, reader.client_id)
    db.session.commit()
    assert reader.get("/api/v1/documents/incoming").status_code == 401


def test_rate_limit_answers_429_with_retry_after(app, office, api_caller) -> None:
    o = office()
    caller = api_caller(o.code, rate_limit=3)
    statuses = [caller.get("/api/v1/registers").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    last = caller.get("/api/v1/registers")
    assert last.status_code == 429 and 1 <= int(last.headers["Retry-After"]) <= 60
    assert "giới hạn" in last.get_json()["error"]["message"]


def test_register_incoming_with_a_file(app, office, sample_pdf, api_caller) -> None:
    from app.documents import queries as dq

    o = office()
    caller = api_caller(o.code)
    data = {k: str(v) for k, v in incoming_data().items()}
    resp = caller.post("/api/v1/documents/incoming", data={**data, "files": (io.BytesIO(sample_pdf), "den.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["status"] == "registered" and body["number"] == 1 and resp.headers["Location"].endswith(
        f"/{body['id']}")
    assert [a["filename"] for a in body["attachments"]] == ["den.pdf"]
    doc = dq.get_document(o.agency_id, body["id"], o.actors["clerk"])
    assert doc.created_by_id == caller.user_id and doc.summary == data["summary"]
    assert _audit_rows("document_registered", caller.user_id)[0].target_id == str(body["id"])
    again = caller.post("/api/v1/documents/incoming", data=data, content_type="multipart/form-data")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "duplicate_document"


def test_register_incoming_with_a_bad_file_stores_nothing(app, office, api_caller) -> None:
    from app.documents.models import Attachment, Document
    from app.extensions import db
    from tests.integration.documents.conftest import upload_files

    o = office()
    caller = api_caller(o.code)
    before_files = upload_files(app)
    data = {k: str(v) for k, v in incoming_data().items()}
    exe = b"MZ\x90\x00" + bytes(range(256)) * 4
    resp = caller.post("/api/v1/documents/incoming", data={**data, "files": (io.BytesIO(exe), "chuong_trinh.exe")},
                       content_type="multipart/form-data")
    assert resp.status_code == 422, resp.get_data(as_text=True)
    error = resp.get_json()["error"]
    assert "không thuộc" in (error["message"] + " ".join(error.get("details", [])))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Document).where(Document.agency_id == o.agency_id)) == 0
    assert db.session.scalar(select(func.count()).select_from(Attachment).join(Document).where(
        Document.agency_id == o.agency_id)) == 0
    assert upload_files(app) == before_files
    missing = caller.post("/api/v1/documents/incoming", data={"summary": "Thiếu trường"},
                          content_type="multipart/form-data")
    assert missing.status_code == 422
    assert missing.get_json()["error"]["field_errors"]["number_notation"] == ["Không được để trống"]


def test_malformed_parameters_and_unknown_paths(app, office, api_caller) -> None:
    o = office()
    caller = api_caller(o.code)
    bad = caller.get("/api/v1/documents/incoming?limit=abc&year=1")
    assert bad.status_code == 400 and bad.get_json()["error"]["field_errors"] == {
        "limit": ["Giá trị không hợp lệ"], "year": ["Giá trị không hợp lệ"]}
    huge = caller.get("/api/v1/documents/incoming?offset=" + "9" * 30)
    assert huge.status_code == 400 and huge.get_json()["error"]["message"].startswith("Tham số")
    assert caller.get("/api/v1/khong-co").get_json()["error"]["code"] == "not_found"
    wrong = caller.host.client.delete("/api/v1/documents/incoming", base_url=f"http://{caller.host.host}",
                                      headers=caller.headers())
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]


def test_openapi_document_is_served(app, client_for) -> None:
    spec = client_for("isotttt.localhost").get("/api/v1/openapi.json")
    assert spec.status_code == 200
    doc = spec.get_json()
    assert doc["openapi"].startswith("3.") and "/api/v1/documents/{document_id}" in doc["paths"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
