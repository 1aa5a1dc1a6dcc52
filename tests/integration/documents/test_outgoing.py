"""The outgoing chain, end to end between two agencies, and every refusal on the way (issue #11).

draft (with files) → returned → resubmitted → reviewed → approved and signed (number, date, final PDF,
personal signature) → agency seal → delivered → the recipient verifies with its own trust roots and
registers from the prefilled copy → the sender sees each status; return and recall.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess

import pdfplumber
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from app.core import clock
from app.core.errors import PermissionDeniedError, ValidationError
from app.documents import deliveries, queries, services, signatures, withdrawal
from app.documents.attachments import UploadInfo
from app.documents.errors import DocumentStateError, SignerMismatchError
from app.documents.models import Document, DocumentRevision
from app.extensions import db
from app.signing.errors import SignerKeyError
from app.workflow import queries as wf_queries
from app.workflow import services as wf
from tests.integration.documents.conftest import incoming_data
from tests.pki import issue_personal


def _draft(o, **overrides):
    data = {"doc_type": "cong_van", "summary": "Về việc triển khai phần mềm quản lý văn bản",
            "body": "Sở Thông tin và Truyền thông đề nghị các cơ quan triển khai phần mềm.",
            "recipients": "- Sở Tài chính;\n- UBND tỉnh (b/c);", "signer_id": o.accounts["leader"].user_id,
            "signer_position": "Giám đốc", "urgency": "khan"}
    data.update(overrides)
    return services.create_outgoing_draft(o.agency_id, actor=o.actors["specialist"], data=data)


def _task(instance_id: int, kind: str):
    (task,) = [t for t in wf_queries.open_tasks(instance_id) if t.step_kind == kind]
    return task


def _sign(o, doc, pin):
    return wf.complete_task(_task(doc.instance_id, "sign").id, o.actors["leader"], {"decision": "approve"},
                            inputs={"pin": pin})


def _to_signature(o, doc, signing):
    wf.complete_task(_task(doc.instance_id, "review").id, o.actors["head"], {"decision": "approve"})
    _sign(o, doc, signing.pin)


def _files(o, doc_id, kind):
    rows = [a for a in queries.get_document(o.agency_id, doc_id, o.actors["clerk"]).attachments if a.kind == kind]
    return [queries.attachment_bytes(o.agency_id, a.id, o.actors["clerk"])[1] for a in rows]


def _validate(pdf: bytes, root_der: bytes) -> list:
    """An independent verdict: pyHanko's validator with a fresh trust context holding only the test root."""
    from asn1crypto import x509 as asn1_x509

    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(root_der)], allow_fetching=False)
    reader = PdfFileReader(io.BytesIO(pdf))
    return [validate_pdf_signature(sig, context) for sig in reader.embedded_signatures]


def test_the_chain_between_two_agencies(office, signing, sample_pdf, tmp_path) -> None:
    sender, receiver = office(abbreviation="STTTT"), office(abbreviation="STC")
    draft = _draft(sender, recipient_agency_codes=[receiver.code])
    assert draft.status == "in_review" and draft.number is None
    # The head returns it; the drafter revises with a working file and an appendix: every file is kept.
    wf.complete_task(_task(draft.instance_id, "review").id, sender.actors["head"], {"decision": "return"},
                     comment="Bổ sung phụ lục")
    wf.complete_task(_task(draft.instance_id, "draft").id, sender.actors["specialist"],
                     {"summary": "V/v triển khai phần mềm quản lý văn bản điện tử"},
                     inputs={"files": {"files": [UploadInfo("du-thao.txt", "Bản thảo\n".encode())],
                                       "appendices": [UploadInfo("phu-luc.pdf", sample_pdf)]}})
    db.session.commit()
    revisions = db.session.query(DocumentRevision).filter_by(document_id=draft.id).order_by("number").all()
    assert [r.kind for r in revisions] == ["submitted", "resubmitted"]
    assert revisions[1].summary == "triển khai phần mềm quản lý văn bản điện tử"  # "V/v" belongs to the layout
    kinds = [e.kind for e in wf_queries.instance_timeline(draft.instance_id)]
    assert "returned" in kinds and "resubmitted" in kinds

    _to_signature(sender, draft, signing)
    db.session.commit()
    signed = queries.get_document(sender.agency_id, draft.id, sender.actors["clerk"])
    assert (signed.status, signed.number, signed.issue_date) == ("signed", 1, clock.today())
    assert signed.number_notation == "01/STTTT-NV"
    wf.complete_task(_task(draft.instance_id, "issue").id, sender.actors["clerk"], {"copies": 2})
    db.session.commit()

    issued = queries.get_document(sender.agency_id, draft.id, sender.actors["clerk"])
    assert issued.status == "delivered"
    (sealed,) = _files(sender, draft.id, "sealed")
    (final,) = _files(sender, draft.id, "final")
    assert sealed.startswith(final)  # incremental: the numbered PDF itself is what was signed
    with pdfplumber.open(io.BytesIO(sealed)) as pdf:
        text = pdf.pages[0].extract_text()
    assert "Số: 01/STTTT-NV" in text and f"ngày {clock.today():%d} tháng {clock.today():%m}" in text
    assert "V/v V/v" not in text

    # At the recipient: the same file, verified with the recipient's own roots, prefilled registration.
    (arrived,) = queries.list_documents(receiver.agency_id, direction="incoming",
                                        actor=receiver.actors["clerk"]).items
    # Not numbered yet, it is listed in this year's incoming list (the clerk's page asks by year), not last year's.
    this_year = queries.list_documents(receiver.agency_id, direction="incoming", actor=receiver.actors["clerk"],
                                       year=clock.today().year)
    assert [d.id for d in this_year.items] == [arrived.id] and arrived.year is None
    assert queries.list_documents(receiver.agency_id, direction="incoming", actor=receiver.actors["clerk"],
                                  year=clock.today().year - 1).total == 0
    copy = queries.get_document(receiver.agency_id, arrived.id, receiver.actors["clerk"])
    main = next(a for a in copy.attachments if a.filename == next(
        a.filename for a in issued.attachments if a.kind == "sealed"))
    delivered = queries.attachment_bytes(receiver.agency_id, main.id, receiver.actors["clerk"])[1]
    assert delivered == sealed and copy.signature_status == "valid"
    assert len(copy.attachments) == 2  # the sealed document and the sealed appendix; not the working file
    verdicts = _validate(delivered, signing.pki.root.cert_der)
    assert len(verdicts) == 2 and all(v.bottom_line and v.intact and v.trusted for v in verdicts)
    path = tmp_path / "delivered.pdf"
    path.write_bytes(delivered)
    shown = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
    assert shown.count("Signature Validation: Signature is Valid.") == 2
    appendix = next(a for a in copy.attachments if a.id != main.id)
    appendix_pdf = queries.attachment_bytes(receiver.agency_id, appendix.id, receiver.actors["clerk"])[1]
    assert appendix_pdf.startswith(sample_pdf) and _validate(appendix_pdf, signing.pki.root.cert_der)[0].bottom_line

    register = _task(copy.instance_id, "register")
    prefill = wf_queries.get_task(register.id)
    from app.workflow.steps import prefill_for

    proposed = prefill_for(prefill)
    assert (proposed["number_notation"], proposed["issuer_name"], proposed["channel"]) == (
        "01/STTTT-NV", issued.issuer_name, "electronic")
    (status,) = deliveries.deliveries_of(draft.id)
    assert status.status == "arrived"
    services.register_received(arrived.id, actor=receiver.actors["clerk"], data={})
    db.session.commit()
    assert deliveries.deliveries_of(draft.id)[0].status == "registered"
    wf.complete_task(_task(copy.instance_id, "assign").id, receiver.actors["leader"],
                     {"lead_department_id": receiver.depts["nv"]})
    db.session.commit()
    (status,) = deliveries.deliveries_of(draft.id)
    assert status.status == "assigned"
    events = deliveries.events_of([status.id])[status.id]
    assert [e.status for e in events] == ["sent", "arrived", "registered", "assigned"]


def test_signing_refusals(office, signing, tmp_path) -> None:
    o = office(abbreviation="STTTT")
    other_leader = o.actors["leader"].__class__(user_id=o.accounts["head"].user_id, agency_id=o.agency_id,
                                                roles=frozenset({"leader"}))
    doc = _draft(o)
    wf.complete_task(_task(doc.instance_id, "review").id, o.actors["head"], {"decision": "approve"})
    db.session.commit()
    sign_step = _task(doc.instance_id, "sign")
    with pytest.raises(PermissionDeniedError):  # the step is the chosen signer's
        wf.complete_task(sign_step.id, other_leader, {"decision": "approve"}, inputs={"pin": signing.pin})
    db.session.rollback()
    with pytest.raises(SignerKeyError):  # a wrong PIN takes nothing: no number, no file
        _sign(o, doc, "sai-ma-pin")
    db.session.rollback()
    with pytest.raises(ValidationError, match="mã PIN"):
        _sign(o, doc, "")
    db.session.rollback()
    row = db.session.get(Document, doc.id)
    assert row.number is None and not row.attachments and row.status == "in_review"
    # A certificate issued to someone else, in the signer's key file, is refused before anything is numbered.
    key_file = signatures.personal_signer_ref(o.code, o.accounts["leader"].email).path
    genuine = key_file.read_bytes()
    impostor = issue_personal(signing.pki, "Nguyễn Văn Khác", "khac@example.vn", tmp_path, "khac")
    key_file.write_bytes(impostor.p12_path.read_bytes())
    try:
        with pytest.raises(SignerMismatchError, match="Nguyễn Văn Khác"):
            _sign(o, doc, signing.pin)
        db.session.rollback()
    finally:
        key_file.write_bytes(genuine)
    assert db.session.get(Document, doc.id).number is None
    with pytest.raises(DocumentStateError, match="chưa được phê duyệt"):  # no signature before approval
        signatures.sign_as_leader(o.agency_id, doc.id, signatures.personal_signer_ref(
            o.code, o.accounts["leader"].email, passphrase=signing.pin), actor=o.actors["leader"])
    db.session.rollback()
    with pytest.raises(DocumentStateError, match="chưa có chữ ký số của người có thẩm quyền"):
        signatures.apply_agency_signature(o.agency_id, doc.id, actor=o.actors["clerk"])
    db.session.rollback()
    with pytest.raises(DocumentStateError, match="chưa cấp số được"):  # no number before approval
        services.issue_outgoing(doc.id)
    db.session.rollback()

    _sign(o, doc, signing.pin)
    db.session.commit()
    assert db.session.get(Document, doc.id).number == 1  # the refused attempts took no number
    with pytest.raises(DocumentStateError, match="chưa được phát hành"):
        services.deliver_outgoing(doc.id)
    db.session.rollback()
    with pytest.raises(PermissionDeniedError, match="không có quyền"):
        wf.complete_task(_task(doc.instance_id, "issue").id, o.actors["leader"], {})
    db.session.rollback()


def test_issue_date_rules_and_paper_issue(office, signing, sample_pdf) -> None:
    o = office(abbreviation="SXD", paper=True, keys=False)
    first, second, third = _draft(o), _draft(o), _draft(o)
    for doc in (first, second, third):
        wf.complete_task(_task(doc.instance_id, "review").id, o.actors["head"], {"decision": "approve"})
        # Paper: the leader approves here and signs on paper; nothing is numbered yet.
        wf.complete_task(_task(doc.instance_id, "sign").id, o.actors["leader"], {"decision": "approve"})
    db.session.commit()
    assert db.session.get(Document, first.id).number is None
    issue = _task(first.instance_id, "issue")
    with pytest.raises(ValidationError, match="bản quét"):
        wf.complete_task(issue.id, o.actors["clerk"], {})
    db.session.rollback()
    scan = {"scan": [UploadInfo("ban-quet.pdf", sample_pdf)]}
    today = clock.today()
    for day, message in ((today + dt.timedelta(days=1), "sau ngày hôm nay"),
                         (dt.date(today.year - 1, 12, 30), f"trong năm {today.year}")):
        with pytest.raises(ValidationError, match=message):
            wf.complete_task(issue.id, o.actors["clerk"], {"issue_date": day.isoformat()}, inputs={"files": scan})
        db.session.rollback()
    wf.complete_task(issue.id, o.actors["clerk"], {"issue_date": today.isoformat()}, inputs={"files": scan})
    db.session.commit()
    if today.day > 1:
        with pytest.raises(ValidationError, match="không được trước ngày của văn bản số 01"):
            wf.complete_task(_task(second.instance_id, "issue").id, o.actors["clerk"],
                             {"issue_date": (today - dt.timedelta(days=1)).isoformat()}, inputs={"files": scan})
        db.session.rollback()
    wf.complete_task(_task(second.instance_id, "issue").id, o.actors["clerk"], {"issue_date": today.isoformat()},
                     inputs={"files": scan})
    db.session.commit()
    done = queries.get_document(o.agency_id, first.id, o.actors["clerk"])
    assert (done.number, done.status, [a.kind for a in done.attachments]) == (1, "delivered", ["scan"])
    assert db.session.get(Document, second.id).number == 2


def test_outgoing_back_entry_after_an_outage(office, sample_pdf) -> None:
    o = office(abbreviation="SNV", keys=False)
    scan = UploadInfo("qd.pdf", sample_pdf)
    day = clock.today()
    items = [services.OutgoingBackEntryItem({"doc_type": "quyet_dinh", "summary": f"Quyết định {n}",
                                             "signer_name": "Nguyễn Văn Bình"}, n, day, scan) for n in (2, 1)]
    made = services.register_outgoing_backlog(o.agency_id, actor=o.actors["clerk"], items=items)
    db.session.commit()
    assert [(d.number, d.number_notation) for d in made] == [(1, "01/QĐ-SNV"), (2, "02/QĐ-SNV")]
    gap = [services.OutgoingBackEntryItem({"doc_type": "quyet_dinh", "summary": "Số nhảy"}, 5, day, scan)]
    with pytest.raises(ValidationError, match="không liền sau số cuối"):
        services.register_outgoing_backlog(o.agency_id, actor=o.actors["clerk"], items=gap)
    db.session.rollback()


def _delivered(sender, receiver, signing):
    doc = _draft(sender, recipient_agency_codes=[receiver.code])
    _to_signature(sender, doc, signing)
    wf.complete_task(_task(doc.instance_id, "issue").id, sender.actors["clerk"], {})
    db.session.commit()
    listed = queries.list_documents(receiver.agency_id, direction="incoming", actor=receiver.actors["clerk"]).items
    (copy,) = [c for c in listed if c.source_document_id == doc.id]
    return doc, copy


def test_return_to_sender_and_recall(office, signing) -> None:
    sender, receiver = office(abbreviation="STTTT"), office(abbreviation="STC")
    doc, copy = _delivered(sender, receiver, signing)
    with pytest.raises(ValidationError, match="lý do"):
        withdrawal.return_received(copy.id, actor=receiver.actors["clerk"], reason="")
    db.session.rollback()
    withdrawal.return_received(copy.id, actor=receiver.actors["clerk"], reason="Gửi nhầm cơ quan nhận")
    db.session.commit()
    (status,) = deliveries.deliveries_of(doc.id)
    assert (status.status, status.reason) == ("returned", "Gửi nhầm cơ quan nhận")
    assert not wf_queries.inbox(receiver.actors["clerk"], "todo")

    doc, copy = _delivered(sender, receiver, signing)
    services.register_received(copy.id, actor=receiver.actors["clerk"])
    db.session.commit()
    with pytest.raises(PermissionDeniedError):
        withdrawal.recall_outgoing(doc.id, actor=sender.actors["specialist"], reason="Sai số liệu")
    db.session.rollback()
    withdrawal.recall_outgoing(doc.id, actor=sender.actors["clerk"], reason="Sai số liệu tại Điều 2")
    db.session.commit()
    assert db.session.get(Document, doc.id).status == "recalled"
    withdrawn = db.session.get(Document, copy.id)
    assert withdrawn.status == "withdrawn" and withdrawn.recall_reason == "Sai số liệu tại Điều 2"
    assert not [t for t in wf_queries.inbox(receiver.actors["leader"], "todo") if t.subject_id == copy.id]
    assert deliveries.deliveries_of(doc.id)[-1].status == "recalled"
    with pytest.raises(DocumentStateError):
        withdrawal.recall_outgoing(doc.id, actor=sender.actors["clerk"], reason="Lần nữa")
    db.session.rollback()


def test_a_modified_signature_blocks_registration_until_a_reason(office, signing, sample_pdf) -> None:
    sender, receiver = office(abbreviation="STTTT"), office(abbreviation="STC")
    _doc, copy = _delivered(sender, receiver, signing)
    row = db.session.get(Document, copy.id)
    row.signature_status = "modified"  # what verification of a tampered delivery records (see test below)
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        services.register_received(copy.id, actor=receiver.actors["clerk"])
    assert "trả lại văn bản cho nơi gửi" in refused.value.field_errors["signature_reason"][0]
    db.session.rollback()
    services.register_received(copy.id, actor=receiver.actors["clerk"], signature_reason="Đã gọi điện xác minh")
    db.session.commit()
    assert db.session.get(Document, copy.id).signature_override_reason == "Đã gọi điện xác minh"


def test_a_tampered_file_is_verified_as_modified(office, signing) -> None:
    sender, other = office(abbreviation="STTTT"), office()
    doc, _ = _delivered(sender, office(abbreviation="STC"), signing)
    (sealed,) = _files(sender, doc.id, "sealed")
    # One letter of the signed revision changed where the file stays a readable PDF (a flipped bit inside a
    # compressed stream would make it unreadable, which the upload refuses before any signature is checked).
    assert sealed.count(b"WeasyPrint") >= 1
    tampered = sealed.replace(b"WeasyPrint", b"WeasyPrinT", 1)
    bad = services.register_incoming(other.agency_id, actor=other.actors["clerk"], data=incoming_data(),
                                     files=[UploadInfo("qd-sua.pdf", tampered)])
    db.session.commit()
    assert bad.attachments[0].verification_status == "modified"
    assert bad.signature_label == "Văn bản đã bị thay đổi sau khi ký"


def test_reply_requested_at_processing_opens_a_linked_draft(office) -> None:
    o = office(keys=False)
    a = o.actors
    doc = services.register_incoming(o.agency_id, actor=a["clerk"], data=incoming_data(due_date=clock.today()))
    wf.complete_task(_task(doc.instance_id, "assign").id, a["leader"], {"lead_department_id": o.depts["nv"]})
    wf.complete_task(_task(doc.instance_id, "assign_person").id, a["head"],
                     {"specialist_id": o.accounts["specialist"].user_id})
    wf.complete_task(_task(doc.instance_id, "process").id, a["specialist"],
                     {"result": "Đã nghiên cứu", "request_reply": True, "reply_summary": "Trả lời về việc triển khai"})
    db.session.commit()
    page = queries.list_documents(o.agency_id, direction="outgoing", actor=a["specialist"])
    (reply,) = page.items
    assert (reply.summary, reply.source_document_id, reply.status) == ("Trả lời về việc triển khai", doc.id, "draft")
    listed = queries.list_documents(o.agency_id, direction="outgoing", actor=a["specialist"], year=clock.today().year)
    assert [d.id for d in listed.items] == [reply.id]
    drafts = [t for t in wf_queries.inbox(a["specialist"], "todo") if t.step_kind == "draft"]
    assert [t.subject_id for t in drafts] == [reply.id]


def test_per_type_numbering_and_exact_case_notation(office) -> None:
    o = office(abbreviation="STP", numbering_policy="per_type", keys=False)
    numbers = []
    for doc_type in ("quy_dinh", "quy_dinh", "to_trinh"):
        draft = _draft(o, doc_type=doc_type)
        db.session.get(Document, draft.id).status = "approved"
        numbers.append(services.issue_outgoing(draft.id).number_notation)
    db.session.commit()
    assert numbers == ["01/QyĐ-STP", "02/QyĐ-STP", "01/TTr-STP"]


def test_unconfigured_agency_gets_a_clear_message(app, office) -> None:
    o = office(keys=False)
    from app.documents.errors import SigningNotConfiguredError

    with pytest.raises(SigningNotConfiguredError, match="chưa được cấu hình chứng thư số cơ quan"):
        signatures.agency_signer_ref(o.code)


def test_return_and_recall_from_the_document_page_tell_the_other_side(office, signing, logged_in) -> None:
    from app.notifications import queries as notes

    sender, receiver = office(abbreviation="STTTT"), office(abbreviation="STC")
    doc, copy = _delivered(sender, receiver, signing)
    clerk = logged_in(receiver.accounts["clerk"])
    page = clerk.get(f"/documents/{copy.id}").get_data(as_text=True)
    assert "Trả lại nơi gửi" in page and "Chữ ký số hợp lệ" in page
    short = clerk.form_post(f"/documents/{copy.id}/return", {"reason": "x"}, from_page=f"/documents/{copy.id}")
    assert short.status_code == 302
    assert db.session.get(Document, copy.id).status == "awaiting_registration"  # refused, nothing changed
    clerk.form_post(f"/documents/{copy.id}/return", {"reason": "Gửi nhầm cơ quan nhận"},
                    from_page=f"/documents/{copy.id}")
    db.session.expire_all()
    assert db.session.get(Document, copy.id).status == "returned"
    told = [n.title for n in notes.notifications_for(sender.accounts["specialist"].user_id, sender.agency_id)]
    assert any("trả lại văn bản" in t for t in told), told
    sender_page = logged_in(sender.accounts["clerk"]).get(f"/documents/{doc.id}").get_data(as_text=True)
    assert "Trả lại" in sender_page and "Gửi nhầm cơ quan nhận" in sender_page
    assert "Lần 1" in sender_page  # the draft's submitted version is in its history

    doc, copy = _delivered(sender, receiver, signing)
    services.register_received(copy.id, actor=receiver.actors["clerk"])
    db.session.commit()
    leader = logged_in(sender.accounts["leader"])
    resp = leader.form_post(f"/documents/{doc.id}/recall", {"reason": "Sai số liệu tại Điều 2"},
                            from_page=f"/documents/{doc.id}")
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Document, doc.id).status == "recalled"
    told = [n.title for n in notes.notifications_for(receiver.accounts["clerk"].user_id, receiver.agency_id)]
    assert any("thu hồi văn bản" in t for t in told), told
    listed = queries.list_documents(receiver.agency_id, direction="incoming", actor=receiver.actors["clerk"]).items
    assert copy.id not in [c.id for c in listed]  # withdrawn copies leave the staff lists
    page = logged_in(receiver.accounts["clerk"]).get(f"/documents/{copy.id}").get_data(as_text=True)
    assert "Văn bản đã bị nơi gửi thu hồi" in page and "Sai số liệu tại Điều 2" in page


def test_dossier_package_keeps_the_signed_originals_unchanged(office, signing, logged_in, sample_pdf) -> None:
    import zipfile

    from app.dossiers import services as dossiers
    from app.dossiers.export import dossier_package, dossier_pdf
    from app.signing import verify_pdf

    sender, receiver = office(abbreviation="STTTT"), office(abbreviation="STC")
    doc, _copy = _delivered(sender, receiver, signing)
    (sealed,) = _files(sender, doc.id, "sealed")
    earlier = services.register_incoming(sender.agency_id, actor=sender.actors["clerk"],
                                         data=incoming_data(issue_date=clock.today() - dt.timedelta(days=3)),
                                         files=[UploadInfo("cong-van-den.pdf", sample_pdf)])
    clerk = sender.actors["clerk"]
    dossier = dossiers.create_dossier(clerk, title="Hồ sơ triển khai phần mềm", retention="10", year=clock.today().year)
    dossiers.file_document(clerk, dossier.id, doc.id)
    dossiers.file_document(clerk, dossier.id, earlier.id)
    db.session.commit()

    package = zipfile.ZipFile(io.BytesIO(dossier_package(clerk, dossier.id)))
    names = package.namelist()
    assert names[-3:] == ["00-muc-luc.pdf", "ho-so.xml", "SHA256SUMS"]
    documents = [n for n in names if n.startswith("van-ban/")]
    assert documents[0].startswith("van-ban/001-")  # the earlier document first: date order, not filing order
    issued = [n for n in documents if n.startswith("van-ban/002-")]
    assert issued and package.read(issued[0]) == sealed  # byte for byte the sealed file that was delivered
    result = verify_pdf(package.read(issued[0]), [signing.pki.root.cert_der])
    assert result.status == "valid" and len(result.signatures) == 2  # the leader's and the agency's
    sums = package.read("SHA256SUMS").decode()
    assert f"{__import__('hashlib').sha256(sealed).hexdigest()}  {issued[0]}" in sums
    index = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(package.read("00-muc-luc.pdf"))).pages)
    assert "Chữ ký số hợp lệ" in " ".join(index.split()) and db.session.get(Document, doc.id).number_notation in index

    reading = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(dossier_pdf(clerk, dossier.id))).pages)
    assert "chữ ký số trên bản này không còn giá trị" in " ".join(reading.split())
    page = logged_in(sender.accounts["clerk"]).get(f"/dossiers/{dossier.id}")
    assert "Xuất gói hồ sơ (bản gốc)" in page.get_data(as_text=True)
    zipped = logged_in(sender.accounts["clerk"]).get(f"/dossiers/{dossier.id}/package.zip")
    assert zipped.status_code == 200 and zipped.mimetype == "application/zip"
