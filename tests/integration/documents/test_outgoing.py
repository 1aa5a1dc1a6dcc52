"""Outgoing documents: the workflow route with issue/deliver/reply operations, numbering, notation,
the Decree 30 PDF, two signatures and their verification (also when a signed PDF arrives elsewhere)."""

from __future__ import annotations

import io
import shutil

import pdfplumber
import pytest
from PIL import Image, ImageDraw

from app.core import clock
from app.documents import queries, services, signatures
from app.documents.attachments import UploadInfo
from app.documents.errors import DocumentStateError
from app.documents.models import Document
from app.extensions import db
from app.workflow import queries as wf_queries
from app.workflow import services as wf
from tests.integration.documents.conftest import incoming_data
from tests.pki import make_pki


def _draft(o, **overrides):
    data = {"doc_type": "quyet_dinh", "summary": "Về việc ban hành Quy chế quản lý văn bản điện tử",
            "body": "Căn cứ Nghị định số 30/2020/NĐ-CP;\nTheo đề nghị của Chánh Văn phòng.",
            "recipients": "- Như Điều 3;\n- UBND tỉnh (b/c);", "signer_id": o.accounts["leader"].user_id,
            "signer_position": "Giám đốc", "urgency": "khan"}
    data.update(overrides)
    return services.create_outgoing_draft(o.agency_id, actor=o.actors["specialist"], data=data)


def _task(instance_id: int, bpmn_id: str):
    (task,) = [t for t in wf_queries.open_tasks(instance_id) if t.bpmn_id == bpmn_id]
    return task


def test_route_issues_numbers_and_delivers_to_recipient_agencies(office) -> None:
    sender, receiver = office(abbreviation="STTTT"), office(abbreviation="STC")
    draft = _draft(sender, recipient_agency_codes=[receiver.code], doc_type="cong_van")
    assert draft.status == "in_review" and draft.number is None
    wf.complete_task(_task(draft.instance_id, "review").id, sender.actors["head"], {"decision": "approve"})
    wf.complete_task(_task(draft.instance_id, "approve").id, sender.actors["leader"], {"decision": "approve"})
    wf.complete_task(_task(draft.instance_id, "issue").id, sender.actors["clerk"],
                     {"issue_date": clock.today().isoformat(), "copies": 3})
    db.session.commit()
    issued = queries.get_document(sender.agency_id, draft.id, sender.actors["clerk"])
    assert (issued.number, issued.status, issued.copies) == (1, "delivered", 3)
    assert issued.number_notation == "01/STTTT-NV"  # công văn: agency then drafting unit, leading zero

    (arrived,) = queries.list_documents(receiver.agency_id, direction="incoming", actor=receiver.actors["clerk"]).items
    assert (arrived.status, arrived.channel, arrived.source_document_id) == ("awaiting_registration", "electronic",
                                                                           draft.id)
    assert arrived.number is None and arrived.number_notation == "01/STTTT-NV"
    (todo,) = wf_queries.inbox(receiver.actors["clerk"], "todo")
    assert (todo.bpmn_id, todo.subject_id) == ("register", arrived.id)
    registered = services.register_received(arrived.id, actor=receiver.actors["clerk"], data={"urgency": "khan"})
    db.session.commit()
    assert (registered.number, registered.status, registered.urgency) == (1, "registered", "khan")
    with pytest.raises(DocumentStateError):
        services.register_received(arrived.id, actor=receiver.actors["clerk"])
    db.session.rollback()


def test_reply_requested_at_processing_opens_a_linked_draft(office) -> None:
    o = office()
    a = o.actors
    doc = services.register_incoming(o.agency_id, actor=a["clerk"], data=incoming_data(due_date=clock.today()))
    wf.complete_task(_task(doc.instance_id, "assign").id, a["leader"], {"lead_department_id": o.depts["nv"]})
    wf.complete_task(_task(doc.instance_id, "assign_specialist").id, a["head"],
                     {"specialist_id": o.accounts["specialist"].user_id})
    wf.complete_task(_task(doc.instance_id, "process").id, a["specialist"],
                     {"result": "Đã nghiên cứu", "request_reply": True, "reply_summary": "Trả lời về việc triển khai"})
    db.session.commit()
    page = queries.list_documents(o.agency_id, direction="outgoing", actor=a["specialist"])
    (reply,) = page.items
    assert (reply.summary, reply.source_document_id, reply.status) == ("Trả lời về việc triển khai", doc.id, "draft")
    drafts = [t for t in wf_queries.inbox(a["specialist"], "todo") if t.bpmn_id == "draft"]
    assert [t.subject_id for t in drafts] == [reply.id]


def test_per_type_numbering_and_exact_case_notation(office) -> None:
    o = office(abbreviation="STP", numbering_policy="per_type")
    numbers = []
    for doc_type in ("quy_dinh", "quy_dinh", "to_trinh"):
        draft = _draft(o, doc_type=doc_type)
        numbers.append(services.issue_outgoing(draft.id).number_notation)
    db.session.commit()
    assert numbers == ["01/QyĐ-STP", "02/QyĐ-STP", "01/TTr-STP"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("docpki"))


def _png(draw, size) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw(ImageDraw.Draw(image))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def signing_config(app, pki, tmp_path):
    """The README layout: <dir>/<code>/agency.p12, seal.png, users/<email>.p12/.png; trust roots folder."""
    roots = tmp_path / "roots"
    roots.mkdir()
    (roots / "root.der").write_bytes(pki.root.cert_der)
    saved = {k: app.config.get(k) for k in ("QLVB_SIGNING_DIR", "QLVB_TRUST_ROOTS")}
    app.config.update(QLVB_SIGNING_DIR=str(tmp_path / "keys"), QLVB_TRUST_ROOTS=str(roots))

    def install(o) -> None:
        folder = tmp_path / "keys" / o.code
        (folder / "users").mkdir(parents=True)
        shutil.copy(pki.agency.p12_path, folder / "agency.p12")
        shutil.copy(pki.leader.p12_path, folder / "users" / f"{o.accounts['leader'].email}.p12")
        (folder / "seal.png").write_bytes(_png(lambda d: d.ellipse((4, 4, 296, 296), outline=(220, 0, 0, 255),
                                                                   width=12), (300, 300)))
        (folder / "users" / f"{o.accounts['leader'].email}.png").write_bytes(
            _png(lambda d: d.line([(10, 120), (90, 20), (200, 130), (290, 30)], fill=(20, 40, 200, 255), width=7),
                 (300, 150)))
        app.config[f"QLVB_SIGNING_PASSPHRASE_{o.code.upper()}"] = pki.passphrase
        app.config[f"QLVB_SIGNING_PASSPHRASE_{signatures.settings.env_key(o.accounts['leader'].email)}"] = (
            pki.passphrase)

    yield install
    app.config.update(saved)


def test_render_sign_twice_verify_then_tamper(app, office, signing_config) -> None:
    o, other = office(abbreviation="STTTT"), office()
    signing_config(o)
    draft = _draft(o)
    services.issue_outgoing(draft.id)
    rendered = signatures.render_outgoing_pdf(o.agency_id, draft.id, actor=o.actors["clerk"])
    pdf = queries.attachment_bytes(o.agency_id, rendered.id, o.actors["clerk"])[1]
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = doc.pages[0].extract_text()
        fonts = {c["fontname"] for c in doc.pages[0].chars}
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Số: 01/QĐ-STTTT" in text and "KHẨN" in text
    assert "Lưu: VT, NV." in text and any("Liberation" in f or "Times" in f for f in fonts)

    leader_ref = signatures.personal_signer_ref(o.code, o.accounts["leader"].email)
    first = signatures.sign_as_leader(o.agency_id, draft.id, leader_ref, actor=o.actors["leader"])
    signed_at = db.session.get(Document, draft.id).signed_at  # what statistics count as "signed"
    assert signed_at is not None
    with pytest.raises(Exception, match="văn thư"):
        signatures.apply_agency_signature(o.agency_id, draft.id, actor=o.actors["leader"])
    second = signatures.apply_agency_signature(o.agency_id, draft.id, actor=o.actors["clerk"])
    db.session.commit()
    assert (first.verification_status, second.verification_status) == ("valid", "valid")
    assert [s["field"] for s in second.signatures] == [signatures.LEADER_FIELD, signatures.AGENCY_FIELD]
    assert all(s["trusted"] and s["intact"] for s in second.signatures)
    assert second.signatures[0]["signer"] == "Nguyễn Văn An"
    final = queries.get_document(o.agency_id, draft.id, o.actors["clerk"])
    assert db.session.get(Document, draft.id).signed_at == signed_at  # the first signed file's time stays
    assert (final.signature_status, final.signature_label) == ("valid", "Chữ ký số hợp lệ")
    signed = queries.attachment_bytes(o.agency_id, second.id, o.actors["clerk"])[1]
    assert signed.startswith(pdf)  # incremental: the rendered revision is untouched

    # The signed file arrives at another agency: verified at registration and shown with the document.
    ok = services.register_incoming(other.agency_id, actor=other.actors["clerk"], data=incoming_data(),
                                    files=[UploadInfo("qd.pdf", signed)])
    index = len(pdf) // 2  # a byte of the rendered revision, covered by both signatures
    tampered = signed[:index] + bytes([signed[index] ^ 0x01]) + signed[index + 1:]
    bad = services.register_incoming(other.agency_id, actor=other.actors["clerk"], data=incoming_data(),
                                     files=[UploadInfo("qd-sua.pdf", tampered)])
    db.session.commit()
    assert ok.attachments[0].verification_status == "valid" and ok.signature_status == "valid"
    assert bad.attachments[0].verification_status == "modified"
    assert bad.signature_label == "Văn bản đã bị thay đổi sau khi ký"


def test_unconfigured_agency_gets_a_clear_message(app, office) -> None:
    o = office()
    from app.documents.errors import SigningNotConfiguredError

    with pytest.raises(SigningNotConfiguredError, match="chưa được cấu hình chứng thư số cơ quan"):
        signatures.agency_signer_ref(o.code)
