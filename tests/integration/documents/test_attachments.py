"""Files of a document: content-based type check, size limit, PDF rules, text for search, one blob per content."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from app.documents import queries, services
from app.documents.attachments import UploadInfo
from app.documents.errors import AttachmentRefusedError
from app.documents.models import Document
from app.documents.storage import LocalStorage, remove_unreferenced
from app.extensions import db
from tests.integration.documents.conftest import incoming_data, png_bytes, upload_files


def _encrypted(pdf: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt("mat-khau")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_real_pdf_is_stored_outside_the_db_with_text_and_checksum(app, office, sample_pdf) -> None:
    o = office()
    info = services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(),
                                      files=[UploadInfo("../../etc/QĐ 15.pdf", sample_pdf, kind="scan")])
    db.session.commit()
    (att,) = info.attachments
    assert (att.filename, att.content_type, att.kind, att.page_count) == ("QĐ 15.pdf", "application/pdf", "scan", 1)
    assert att.verification_status == "unsigned"
    meta, data = queries.attachment_bytes(o.agency_id, att.id, o.actors["clerk"])
    assert data == sample_pdf and meta.sha256 == att.sha256
    search = db.session.scalar(select(Document.search_text).where(Document.id == info.id))
    assert "quy che luu tru ho so dien tu" in search  # extracted from the PDF, folded
    with pytest.raises(Exception, match="Không tìm thấy"):
        queries.attachment_bytes(o.agency_id, att.id, o.actors["outsider"])


def test_same_file_twice_is_one_blob(app, office, sample_pdf) -> None:
    o = office()
    before = upload_files(app)
    for _ in range(2):
        services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(),
                                   files=[UploadInfo("a.pdf", sample_pdf + b"\n% twice")])
    db.session.commit()
    assert len(upload_files(app) - before) == 1


@pytest.mark.parametrize(
    ("name", "make", "kind", "message"),
    [
        ("anh.pdf", lambda pdf: png_bytes(), "original", "không phải PDF"),
        ("mat.pdf", _encrypted, "original", "mã hóa"),
        ("hong.pdf", lambda pdf: pdf[: len(pdf) // 3], "original", "bị hỏng"),
        ("cu.pdf", lambda pdf: pdf.replace(b"%PDF-1.7", b"%PDF-1.3", 1), "scan", "1.4 trở lên"),
        ("chuong_trinh.exe", lambda pdf: b"MZ\x90\x00" + bytes(range(256)) * 4, "original", "không thuộc"),
        ("anh.png", lambda pdf: png_bytes(), "scan", "phải là tệp PDF"),
    ],
)
def test_refused_files_leave_nothing(app, office, sample_pdf, name, make, kind, message) -> None:
    o = office()
    before = upload_files(app)
    count = db.session.scalar(select(db.func.count()).select_from(Document).where(Document.agency_id == o.agency_id))
    with pytest.raises(AttachmentRefusedError, match=message) as info:
        services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(),
                                   files=[UploadInfo(name, make(sample_pdf), kind=kind)])
    db.session.rollback()
    assert info.value.field_errors["files"]
    assert upload_files(app) == before
    assert db.session.scalar(
        select(db.func.count()).select_from(Document).where(Document.agency_id == o.agency_id)) == count


def test_oversized_file_is_refused(app, office, sample_pdf) -> None:
    o = office()
    app.config["QLVB_MAX_UPLOAD_MB"] = 1
    try:
        with pytest.raises(AttachmentRefusedError, match="vượt giới hạn 1 MB"):
            services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(),
                                       files=[UploadInfo("lon.pdf", sample_pdf + b"\n%" + b"x" * 1_100_000)])
    finally:
        app.config["QLVB_MAX_UPLOAD_MB"] = 50
        db.session.rollback()


def test_blob_of_a_rolled_back_registration_is_swept(app, office, sample_pdf) -> None:
    o = office()
    storage = LocalStorage(app.config["QLVB_UPLOAD_DIR"])
    data = sample_pdf + b"\n% rolled back"
    services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(),
                               files=[UploadInfo("x.pdf", data)])
    db.session.rollback()  # the request failed after the file was written
    from app.ops.storage import referenced_keys

    # Every table that names a blob (not only attachments: exchange and work files share the store).
    referenced = set(referenced_keys(db.session))
    orphans = [k for k in storage.list_keys() if k not in referenced]
    assert len(orphans) >= 1
    assert remove_unreferenced(storage, referenced, min_age_seconds=3600) == 0  # too young: may be in flight
    assert remove_unreferenced(storage, referenced, min_age_seconds=0) == len(orphans)
    assert all(storage.exists(k) for k in referenced)
