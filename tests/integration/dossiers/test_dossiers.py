"""Work dossiers: the yearly list, filing without copies, order, closing, deposit reminders, exports."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from defusedxml.ElementTree import fromstring
from pypdf import PdfReader

from app.core import clock
from app.documents import services as documents
from app.documents.attachments import UploadInfo
from app.dossiers import services
from app.dossiers.errors import DossierNotFoundError, DossierPermissionError, DossierStateError, DossierValidationError
from app.dossiers.export import NAMESPACE, dossier_list_pdf, dossier_pdf, dossier_xml
from app.dossiers.models import DossierDocument
from app.dossiers.queries import dossier_contents, dossiers_due_for_deposit, dossiers_for_document, list_dossiers
from app.extensions import db
from tests.integration.documents.conftest import incoming_data

NS = {"h": NAMESPACE}


@pytest.fixture
def desk(office):
    o = office()
    clerk = o.actors["clerk"]
    docs = [documents.register_incoming(o.agency_id, actor=clerk, data=incoming_data(
        summary=s, issue_date=dt.date(2026, 11, d), pages=p)) for s, d, p in
        (("Kế hoạch chuyển đổi số năm 2026", 2, 3), ("Báo cáo kết quả quý III", 5, 2), ("Giấy mời họp", 9, 1))]
    db.session.commit()
    return o, docs


def test_open_file_order_and_list(desk):
    o, docs = desk
    clerk = o.actors["clerk"]
    d = services.create_dossier(clerk, title="Hồ sơ chuyển đổi số", retention="10", year=2026)
    assert d.code == "01.VP" and d.status == "open" and d.retention_label == "10 năm"
    for doc in docs:
        services.file_document(clerk, d.id, doc.id)
    services.move_document(clerk, d.id, docs[2].id, 1)
    db.session.commit()
    contents = dossier_contents(clerk, d.id)
    assert [e.document_id for e in contents] == [docs[2].id, docs[0].id, docs[1].id]
    assert [e.position for e in contents] == [1, 2, 3]
    listed = list_dossiers(clerk, 2026)
    assert [(x.code, x.doc_total, x.page_total) for x in listed] == [("01.VP", 3, 6)]
    services.unfile_document(clerk, d.id, docs[2].id)
    assert [e.position for e in dossier_contents(clerk, d.id)] == [1, 2]
    with pytest.raises(DossierStateError, match="đã có trong hồ sơ"):
        services.file_document(clerk, d.id, docs[0].id)


def test_one_document_in_many_dossiers_without_copies(desk):
    o, docs = desk
    clerk, leader = o.actors["clerk"], o.actors["leader"]
    a = services.create_dossier(clerk, title="Hồ sơ A", retention="5")
    b = services.create_dossier(leader, title="Hồ sơ B", retention="vinh_vien", code="CT-01")
    services.file_document(clerk, a.id, docs[0].id)
    services.file_document(leader, b.id, docs[0].id)
    db.session.commit()
    assert {x.id for x in dossiers_for_document(leader, docs[0].id)} == {a.id, b.id}
    assert db.session.query(DossierDocument).filter_by(document_id=docs[0].id).count() == 2
    from app.documents.models import Document

    assert db.session.query(Document).filter(Document.agency_id == o.agency_id).count() == 3  # nothing copied


def test_others_cannot_see_or_change_a_persons_dossier(desk, office):
    o, docs = desk
    mine = services.create_dossier(o.actors["specialist"], title="Hồ sơ riêng của chuyên viên", retention="5")
    db.session.commit()
    outsider, other_agency = o.actors["outsider"], office().actors["clerk"]
    for actor in (outsider, other_agency):
        assert mine.id not in {x.id for x in list_dossiers(actor, mine.year)}
        with pytest.raises(DossierNotFoundError):
            dossier_contents(actor, mine.id)
    with pytest.raises(DossierPermissionError):
        services.close_dossier(o.actors["leader"], mine.id)  # leaders see, the owner and clerks change
    with pytest.raises(DossierNotFoundError):
        services.file_document(other_agency, mine.id, docs[0].id)
    # A document the specialist may not see cannot be filed by them.
    from app.core.errors import NotFoundError

    with pytest.raises(NotFoundError):
        services.file_document(o.actors["specialist"], mine.id, docs[1].id)


def test_validation_messages(desk):
    o, _ = desk
    clerk = o.actors["clerk"]
    with pytest.raises(DossierValidationError, match="tiêu đề"):
        services.create_dossier(clerk, title="  ", retention="10")
    with pytest.raises(DossierValidationError, match="thời hạn bảo quản"):
        services.create_dossier(clerk, title="Hồ sơ", retention="99")
    services.create_dossier(clerk, title="Hồ sơ", retention="10", code="X1")
    with pytest.raises(DossierValidationError, match="đã có hồ sơ ký hiệu “X1”"):
        services.create_dossier(clerk, title="Hồ sơ khác", retention="10", code="x1")
    empty = services.create_dossier(clerk, title="Hồ sơ rỗng", retention="10")
    with pytest.raises(DossierStateError, match="chưa có văn bản"):
        services.close_dossier(clerk, empty.id)


def test_close_deposit_and_reminder_thirty_days_before(desk):
    o, docs = desk
    clerk = o.actors["clerk"]
    try:
        clock.freeze(dt.datetime(2026, 11, 20, 3, tzinfo=dt.UTC))
        d = services.create_dossier(clerk, title="Hồ sơ đóng", retention="20")
        services.file_document(clerk, d.id, docs[0].id)
        closed = services.close_dossier(clerk, d.id, closed_on=dt.date(2026, 11, 20))
        db.session.commit()
        assert closed.deposit_due_on == dt.date(2027, 11, 20)
        with pytest.raises(DossierStateError, match="đã đóng"):
            services.file_document(clerk, d.id, docs[1].id)
        mine = lambda today: [x.dossier_id for x in dossiers_due_for_deposit(today, 30, agency_id=o.agency_id)]  # noqa: E731
        assert mine(dt.date(2027, 10, 20)) == []
        assert mine(dt.date(2027, 10, 21)) == [d.id]  # 30 days before
        due = dossiers_due_for_deposit(dt.date(2027, 11, 25), agency_id=o.agency_id)[0]
        assert due.days_left == -5
        clock.freeze(dt.datetime(2027, 11, 1, 3, tzinfo=dt.UTC))
        services.record_deposit(clerk, d.id)
        db.session.commit()
        assert mine(dt.date(2027, 11, 25)) == []
    finally:
        clock.freeze(None)


def test_exports(desk, sample_pdf):
    o, docs = desk
    clerk = o.actors["clerk"]
    with_pdf = documents.register_incoming(o.agency_id, actor=clerk, data=incoming_data(
        summary="Quyết định có tệp PDF", issue_date=dt.date(2026, 11, 10)),
        files=[UploadInfo(filename="quyet-dinh.pdf", data=sample_pdf)])
    d = services.create_dossier(clerk, title="Hồ sơ “xuất” & <kiểm tra>", retention="vinh_vien")
    for doc in (docs[0], with_pdf):
        services.file_document(clerk, d.id, doc.id)
    db.session.commit()

    xml = dossier_xml(clerk, d.id)
    assert xml.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = fromstring(xml)
    assert root.find("h:Title", NS).text == "Hồ sơ “xuất” & <kiểm tra>"
    assert root.find("h:Maintenance", NS).text == "Vĩnh viễn"
    assert root.find("h:FileCode/h:FileCatalog", NS).text == str(d.year)
    subjects = [e.find("h:Subject", NS).text for e in root.findall("h:Documents/h:Document", NS)]
    assert subjects == ["Kế hoạch chuyển đổi số năm 2026", "Quyết định có tệp PDF"]
    assert root.find("h:DocTotal", NS).text == "2"

    pdf = PdfReader(io.BytesIO(dossier_pdf(clerk, d.id)))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "MỤC LỤC VĂN BẢN" in text.upper() and "Kế hoạch chuyển đổi số" in text
    assert "ban hành quy chế lưu trữ hồ sơ điện tử" in text  # the filed document's own PDF follows the list
    assert pdf.outline[0].title.startswith("Mục lục văn bản")
    assert "bản đọc" in pdf.metadata.title  # a merged copy never passes for the signed originals
    listing = PdfReader(io.BytesIO(dossier_list_pdf(clerk, d.year)))
    assert "Hồ sơ “xuất” & <kiểm tra>" in listing.pages[0].extract_text()
