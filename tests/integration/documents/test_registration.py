"""Registering incoming documents: numbering, year rollover, back-entry, duplicates, refusals, access."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.core import clock
from app.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from app.documents import queries, services
from app.documents.attachments import UploadInfo
from app.documents.errors import DocumentRefusedError, DuplicateDocumentError
from app.documents.models import Attachment, Document, Register
from app.extensions import db
from app.workflow import queries as wf_queries
from tests.integration.documents.conftest import incoming_data, upload_files


def _counts(agency_id: int) -> tuple[int, int, int]:
    docs = db.session.scalar(select(func.count()).select_from(Document).where(Document.agency_id == agency_id))
    atts = db.session.scalar(select(func.count()).select_from(Attachment).join(Document)
                             .where(Document.agency_id == agency_id))
    next_numbers = db.session.scalar(select(func.coalesce(func.sum(Register.next_number), 0))
                                     .where(Register.agency_id == agency_id))
    return docs, atts, next_numbers


def test_numbers_run_from_one_and_the_register_step_is_done(office) -> None:
    o = office()
    infos = [services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data())
             for _ in range(3)]
    db.session.commit()
    assert [i.number for i in infos] == [1, 2, 3]
    assert {i.year for i in infos} == {clock.today().year}
    assert all(i.status == "registered" and not i.back_entered for i in infos)
    # The workflow moved on: the leader now has the "assign" step of each document.
    leader_tasks = wf_queries.inbox(o.actors["leader"], "todo")
    assert sorted(t.subject_id for t in leader_tasks) == sorted(i.id for i in infos)
    assert {t.bpmn_id for t in leader_tasks} == {"assign"}


def test_year_rollover_starts_again_at_one(office) -> None:
    o = office()
    try:
        clock.freeze(dt.datetime(2030, 12, 31, 16, 0, tzinfo=dt.UTC))  # 23:00 on 31/12 in Vietnam
        last = services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data())
        clock.freeze(dt.datetime(2030, 12, 31, 17, 30, tzinfo=dt.UTC))  # 00:30 on 1/1/2031 in Vietnam
        first = services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data())
        second = services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data())
        db.session.commit()
    finally:
        clock.freeze(None)
    assert (last.year, last.number) == (2030, 1)
    assert [(first.year, first.number), (second.year, second.number)] == [(2031, 1), (2031, 2)]
    assert first.register_id != last.register_id


def test_back_entry_keeps_issued_numbers_and_records_both_dates(office) -> None:
    o = office()
    clerk = o.actors["clerk"]
    before = services.register_incoming(o.agency_id, actor=clerk, data=incoming_data(summary="Trước sự cố"))
    db.session.commit()
    now = clock.now()
    batch = [
        services.BackEntryItem(data=incoming_data(summary="Nhận lúc 10 giờ"), received_at=now - dt.timedelta(hours=5)),
        services.BackEntryItem(data=incoming_data(summary="Nhận lúc 8 giờ"), received_at=now - dt.timedelta(hours=7)),
    ]
    entered = services.register_backlog(o.agency_id, actor=clerk, items=batch)
    db.session.commit()
    assert [e.summary for e in entered] == ["Nhận lúc 8 giờ", "Nhận lúc 10 giờ"]  # receipt order
    assert [e.number for e in entered] == [2, 3]
    assert all(e.back_entered and e.received_at < e.registered_at for e in entered)
    assert entered[0].arrival_date == (now - dt.timedelta(hours=7)).astimezone(clock.VN_TZ).date()
    unchanged = queries.get_document(o.agency_id, before.id, clerk)
    assert (unchanged.number, unchanged.back_entered) == (1, False)
    rows = queries.register_rows(o.agency_id, clock.today().year, "incoming")
    assert [r[1] for r in rows] == ["01", "02", "03"]
    assert rows[1][9].startswith("Nhập bù") and rows[0][9] == ""


def test_back_entry_in_the_future_is_refused(office) -> None:
    o = office()
    with pytest.raises(ValidationError) as info:
        services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(),
                                   back_entry_received_at=clock.now() + dt.timedelta(days=1))
    assert "received_at" in info.value.field_errors
    db.session.rollback()


def test_duplicate_is_named_unless_the_clerk_confirms(office) -> None:
    o = office()
    clerk = o.actors["clerk"]
    data = incoming_data(number_notation="125/UBND-VX")
    first = services.register_incoming(o.agency_id, actor=clerk, data=data)
    db.session.commit()
    with pytest.raises(DuplicateDocumentError) as info:
        services.register_incoming(o.agency_id, actor=clerk,
                                   data={**data, "issuer_name": "UỶ BAN NHÂN DÂN TỈNH VĨNH PHÚC"})
    db.session.rollback()
    assert info.value.earlier_id == first.id
    assert "125/UBND-VX" in info.value.message and "số đến 01" in info.value.message
    # Same notation from another issuer, or another year, is not a duplicate.
    other = services.register_incoming(o.agency_id, actor=clerk, data={**data, "issuer_name": "Sở Tài chính"})
    again = services.register_incoming(o.agency_id, actor=clerk, data=data, confirm_duplicate=True)
    db.session.commit()
    assert (other.number, again.number) == (2, 3)


@pytest.mark.parametrize(("first", "second", "duplicate"), [
    ("15/QĐ-UBND", "15/qđ-ubnd", True),  # "Đ" folds on every database, not only ASCII letters
    ("15/QĐ-UBND", " 15/QĐ - UBND ", True),  # spacing typed differently
    ("15/HĐ-STC", "15/HĐ-STC", True),
    ("15/QĐ-UBND", "15/QD-UBND", False),  # accents are kept: QD is not QĐ
    ("15/QĐ-UBND", "16/QĐ-UBND", False),
])
def test_duplicate_notation_with_vietnamese_letters(office, first: str, second: str, duplicate: bool) -> None:
    o = office()
    clerk = o.actors["clerk"]
    data = incoming_data(number_notation=first)
    services.register_incoming(o.agency_id, actor=clerk, data=data)
    db.session.commit()
    if duplicate:
        with pytest.raises(DuplicateDocumentError):
            services.register_incoming(o.agency_id, actor=clerk, data={**data, "number_notation": second})
        db.session.rollback()
    else:
        services.register_incoming(o.agency_id, actor=clerk, data={**data, "number_notation": second})
        db.session.commit()


@pytest.mark.parametrize(
    ("overrides", "reason", "cited"),
    [
        ({"confidentiality": "mat"}, "classified", "Văn bản mật"),
        ({"confidentiality": "toi_mat"}, "classified", "Tối mật"),
        ({"confidentiality": "tuyet_mat"}, "classified", "Tuyệt mật"),
        ({"summary": "Đơn tố cáo ông Nguyễn Văn A có hành vi sai phạm"}, "denunciation", "Đơn tố cáo"),
        ({"kind": "don_to_cao", "summary": "Đơn của công dân"}, "denunciation", "Đơn tố cáo"),
        ({"kind": "dac_biet"}, "special", "Văn bản đặc biệt"),
    ],
)
def test_refused_kinds_store_nothing(app, office, sample_pdf, overrides, reason, cited) -> None:
    o = office()
    before, files_before = _counts(o.agency_id), upload_files(app)
    with pytest.raises(DocumentRefusedError) as info:
        services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(**overrides),
                                   files=[UploadInfo("don.pdf", sample_pdf + b"\n% unique " + reason.encode())])
    db.session.rollback()
    assert info.value.reason == reason
    assert cited in info.value.message
    assert "Điều 7 khoản 1, Quyết định 52/2014/QĐ-UBND" in info.value.message
    assert _counts(o.agency_id) == before
    assert upload_files(app) == files_before


def test_report_about_denunciations_is_not_refused(office) -> None:
    o = office()
    info = services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(
        doc_type="bao_cao", summary="Báo cáo công tác tiếp công dân, giải quyết khiếu nại, tố cáo quý III"))
    db.session.commit()
    assert info.number == 1


def test_only_clerks_register_and_fields_are_checked(office) -> None:
    o = office()
    with pytest.raises(PermissionDeniedError):
        services.register_incoming(o.agency_id, actor=o.actors["specialist"], data=incoming_data())
    with pytest.raises(ValidationError) as info:
        services.register_incoming(o.agency_id, actor=o.actors["clerk"],
                                   data=incoming_data(number_notation="", issue_date="31/02/2026", urgency="gap"))
    db.session.rollback()
    assert set(info.value.field_errors) == {"number_notation", "issue_date", "urgency"}


def test_access_is_limited_to_the_agency_and_the_people_involved(office) -> None:
    o, other = office(), office()
    doc = services.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data())
    db.session.commit()
    assert queries.get_document(o.agency_id, doc.id, o.actors["leader"]).id == doc.id
    with pytest.raises(NotFoundError):
        queries.get_document(o.agency_id, doc.id, o.actors["specialist"])  # not involved yet
    with pytest.raises(NotFoundError):
        queries.get_document(other.agency_id, doc.id, other.actors["clerk"])  # another agency's id
    with pytest.raises(NotFoundError):
        queries.get_document(o.agency_id, doc.id, other.actors["clerk"])
    services.record_assignment(doc.id, actor=o.actors["leader"], lead_department_id=o.depts["nv"])
    db.session.commit()
    assert queries.get_document(o.agency_id, doc.id, o.actors["specialist"]).lead_department_id == o.depts["nv"]
    with pytest.raises(NotFoundError):
        queries.get_document(o.agency_id, doc.id, o.actors["outsider"])
    page = queries.list_documents(o.agency_id, direction="incoming", actor=o.actors["specialist"])
    assert [d.id for d in page.items] == [doc.id] and page.total == 1
    assert queries.list_documents(o.agency_id, direction="incoming", actor=o.actors["outsider"]).total == 0


def test_printed_registers_have_the_appendix_iv_columns(office) -> None:
    import io

    import pdfplumber

    o = office()
    services.register_incoming(o.agency_id, actor=o.actors["clerk"],
                               data=incoming_data(summary="Về việc tổ chức hội nghị trực tuyến"))
    db.session.commit()
    year = clock.today().year
    for kind, heading, columns in (("incoming", "Tác giả", 10), ("outgoing", "Nơi nhận", 10),
                                   ("incoming_followup", "Đơn vị hoặc", 7)):
        pdf = queries.register_pdf(o.agency_id, year, kind)
        with pdfplumber.open(io.BytesIO(pdf)) as doc:
            page = doc.pages[0]
            text = page.extract_text()
            assert page.width > page.height  # landscape A4
        assert heading in text
        assert f"({columns})" in text and f"({columns + 1})" not in text  # the numbered column row
    incoming = queries.register_pdf(o.agency_id, year, "incoming")
    with pdfplumber.open(io.BytesIO(incoming)) as doc:
        text = doc.pages[0].extract_text()
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN" in text and "trực tuyến" in text and "từ số 01 đến số 01" in text
