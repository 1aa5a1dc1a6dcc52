"""Both mandatory processes (Art 12) end to end over HTTP, as clerk, leader, head and specialist, in two
agencies whose incoming routes differ (Sở Tư pháp adds a legal review step)."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from app.core.clock import VN_TZ, today
from app.documents.models import Document
from app.extensions import db
from app.tenancy.models import Department
from app.workflow import queries as wfq
from app.workflow.models import HumanTask, ProcessInstance

# Deadlines are never in the past (app/documents/deadline_rules.py): the leader's in a month, the head's within it.
LEADER_DEADLINE = f"{today() + dt.timedelta(days=30):%d/%m/%Y}"
HEAD_DEADLINE = f"{today() + dt.timedelta(days=25):%d/%m/%Y}"


@dataclass
class Office:
    code: str
    clerk: Any
    leader: Any
    head: Any
    specialist: Any
    dept_id: int
    legal: Any = None


def _dept(code: str, dept: str) -> int:
    return db.session.scalar(select(Department.id).join(Department.agency).where(
        Department.code == dept, Department.agency.has(code=code)))


@pytest.fixture
def offices(make_account):
    def office(code: str, dept: str, legal: bool = False) -> Office:
        return Office(code=code, clerk=make_account(code, ["clerk"], department_code="vp", name="Trần Thị Văn Thư"),
                      leader=make_account(code, ["leader"], name="Phạm Văn Lãnh Đạo"),
                      head=make_account(code, ["head"], department_code=dept, name="Vũ Đình Trưởng"),
                      specialist=make_account(code, ["specialist"], department_code=dept, name="Đỗ Thị Chuyên"),
                      dept_id=_dept(code, dept),
                      legal=make_account(code, ["legal"], department_code=dept, name="Tạ Thu Pháp") if legal else None)

    return office("isotttt", "cntt"), office("isotp", "xd-ktvb", legal=True)


def _open_task(client, name: str, doc: int | None = None) -> int:
    """The step called ``name`` waiting for this user: from the document's page when the document is known (the
    shared agencies' inboxes also hold other tests' and the demo's work), else from the inbox."""
    if doc is not None:
        page = client.get(f"/documents/{doc}").get_data(as_text=True)
        for m in re.finditer(r'href="/tasks/(\d+)">([^<]+)</a>', page):
            if m.group(2).strip() == name:
                return int(m.group(1))
        raise AssertionError(f"no step {name!r} on document {doc}:\n" + re.sub(r"\s+", " ", page)[-1500:])
    page = client.get("/inbox/").get_data(as_text=True)
    for m in re.finditer(r'href="/tasks/(\d+)"><strong>([^<]+)</strong>', page):
        if m.group(2) == name:
            return int(m.group(1))
    raise AssertionError(f"no task {name!r} in inbox:\n" + re.sub(r"\s+", " ", page)[-1500:])


def _complete(client, name: str, data: dict[str, Any], doc: int | None = None) -> int:
    task_id = _open_task(client, name, doc)
    resp = client.form_post(f"/tasks/{task_id}", data)
    assert resp.status_code == 302, re.sub(r"\s+", " ", resp.get_data(as_text=True))[-1500:]
    assert wfq.get_task(task_id).state == "done"
    return task_id


def _register(o: Office, logged_in, *, number: str) -> int:
    c = logged_in(o.clerk)
    resp = c.form_post("/documents/incoming/new", {
        "doc_type": "cong_van", "number_notation": number, "issuer_name": "UBND tỉnh Vĩnh Phúc",
        "issue_date": "20/11/2026", "summary": "Về việc triển khai chuyển đổi số năm 2027",
        "urgency": "thuong", "confidentiality": "thuong", "channel": "paper", "pages": "2"})
    assert resp.status_code == 302, re.sub(r"\s+", " ", resp.get_data(as_text=True))[-1500:]
    return int(resp.headers["Location"].rstrip("/").split("/")[-1])


def _instance(doc_id: int, direction: str) -> ProcessInstance:
    return db.session.scalar(select(ProcessInstance).where(ProcessInstance.subject_type == direction,
                                                           ProcessInstance.subject_id == doc_id))


def test_incoming_route_with_send_back_loop(offices, logged_in):
    o, _ = offices
    doc_id = _register(o, logged_in, number="101/UBND-VP")
    doc = db.session.get(Document, doc_id)
    assert doc.number >= 1 and doc.status in ("registered", "assigned", "in_progress")
    page = logged_in(o.clerk).get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "Về việc triển khai chuyển đổi số năm 2027" in page and "Vào sổ văn bản đến" in page

    _complete(logged_in(o.leader), "Phân công xử lý", {"lead_department_id": str(o.dept_id),
                                                        "deadline": LEADER_DEADLINE,
                                                        "direction": "Đề nghị phòng CNTT chủ trì"}, doc=doc_id)
    _complete(logged_in(o.head), "Giao chuyên viên xử lý", {"specialist_id": str(o.specialist.user_id),
                                                            "deadline": HEAD_DEADLINE}, doc=doc_id)
    _complete(logged_in(o.specialist), "Xử lý văn bản", {"result": "Đã xây dựng dự thảo kế hoạch"}, doc=doc_id)
    _complete(logged_in(o.head), "Xác nhận kết quả xử lý", {"decision": "send_back", "comment": "Bổ sung kinh phí"},
              doc=doc_id)
    # Sent back: the specialist gets the step again, with the head's comment on the timeline.
    _complete(logged_in(o.specialist), "Xử lý văn bản", {"result": "Đã bổ sung phần kinh phí"}, doc=doc_id)
    _complete(logged_in(o.head), "Xác nhận kết quả xử lý", {"decision": "complete"}, doc=doc_id)
    db.session.expire_all()
    assert _instance(doc_id, "incoming").status == "completed"
    detail = logged_in(o.leader).get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "Bổ sung kinh phí" in detail and "Đỗ Thị Chuyên" in detail


def test_two_agencies_route_the_same_kind_of_document_differently(offices, logged_in):
    sotttt, sotp = offices
    steps = {}
    for o in (sotttt, sotp):
        doc_id = _register(o, logged_in, number=f"55/{o.code.upper()}-VP")
        _complete(logged_in(o.leader), "Phân công xử lý", {"lead_department_id": str(o.dept_id),
                                                            "deadline": LEADER_DEADLINE}, doc=doc_id)
        _complete(logged_in(o.head), "Giao chuyên viên xử lý", {"specialist_id": str(o.specialist.user_id)},
                  doc=doc_id)
        _complete(logged_in(o.specialist), "Xử lý văn bản", {"result": "Xong"}, doc=doc_id)
        inst = _instance(doc_id, "incoming")
        steps[o.code] = [t.bpmn_id for t in wfq.open_tasks(inst.id)]
    assert steps["isotttt"] == ["confirm"]
    assert steps["isotp"] == ["legal_review"]
    _complete(logged_in(sotp.legal), "Thẩm định pháp lý", {"decision": "approve", "comment": "Phù hợp"}, doc=doc_id)


def _form_values(page: str) -> dict[str, str]:
    """The values a form shows, as a browser would post them back (inputs, selected options, textareas)."""
    import html

    values = {}
    for m in re.finditer(r"<input\b([^>]*)>", page):
        attrs = m.group(1)
        name, value = re.search(r'name="([^"]+)"', attrs), re.search(r'value="([^"]*)"', attrs)
        kind = re.search(r'type="([^"]+)"', attrs)
        if name and value and (kind is None or kind.group(1) not in ("radio", "checkbox", "submit", "file")):
            values[name.group(1)] = html.unescape(value.group(1))
    for m in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', m.group(2))
        if chosen:
            values[m.group(1)] = html.unescape(chosen.group(1))
    for m in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        values[m.group(1)] = html.unescape(m.group(2)).strip()
    return values


def test_reply_is_numbered_signed_sealed_and_registered_by_the_other_agency(offices, logged_in, signing, tmp_path):
    o, other = offices
    signing.install_agency("isotttt")
    signing.install_person("isotttt", o.leader.email, "Phạm Văn Lãnh Đạo")
    doc_id = _register(o, logged_in, number="77/STP-VP")
    _complete(logged_in(o.leader), "Phân công xử lý", {"lead_department_id": str(o.dept_id),
                                                        "deadline": LEADER_DEADLINE}, doc=doc_id)
    _complete(logged_in(o.head), "Giao chuyên viên xử lý", {"specialist_id": str(o.specialist.user_id)}, doc=doc_id)
    _complete(logged_in(o.specialist), "Xử lý văn bản", {"result": "Cần trả lời", "request_reply": "y",
                                                         "reply_summary": "Trả lời về việc chuyển đổi số"}, doc=doc_id)
    reply = db.session.scalar(select(Document).where(Document.source_document_id == doc_id,
                                                     Document.direction == "outgoing"))
    assert reply is not None and reply.status == "draft"

    sp = logged_in(o.specialist)
    draft = {"doc_type": "cong_van", "summary": "Trả lời về việc chuyển đổi số",
             "body": "Sở Thông tin và Truyền thông trả lời như sau.", "recipients": "- Sở Tư pháp;\n- Lưu: VT, CNTT.",
             "recipient_agency_codes": ["isotp"], "urgency": "khan", "signer_id": str(o.leader.user_id)}
    task_id = _open_task(sp, "Dự thảo văn bản", reply.id)
    resp = sp.form_post(f"/tasks/{task_id}", {**draft, "files": (io.BytesIO(b"Ban thao lan 1\n"), "du-thao.txt")},
                        content_type="multipart/form-data")
    assert resp.status_code == 302, re.sub(r"\s+", " ", resp.get_data(as_text=True))[-1500:]
    assert [a.filename for a in db.session.get(Document, reply.id).attachments] == ["du-thao.txt"]
    # The head returns it once (the loop); the resubmission is recorded as such, then it goes through.
    _complete(logged_in(o.head), "Kiểm tra dự thảo", {"decision": "return", "comment": "Sửa câu mở đầu"}, doc=reply.id)
    _complete(sp, "Dự thảo văn bản", {**draft, "body": "Sở Thông tin và Truyền thông trả lời Sở Tư pháp như sau."},
              doc=reply.id)
    _complete(logged_in(o.head), "Kiểm tra dự thảo", {"decision": "approve"}, doc=reply.id)

    leader = logged_in(o.leader)
    sign_task = _open_task(leader, "Phê duyệt và ký số", reply.id)
    assert "Xem trước bản PDF theo thể thức" in leader.get(f"/tasks/{sign_task}").get_data(as_text=True)
    assert "Lý do vẫn vào sổ" not in leader.get(f"/tasks/{sign_task}").get_data(as_text=True)
    preview = leader.get(f"/documents/{reply.id}/preview.pdf")
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    from pypdf import PdfReader as _Reader

    shown = " ".join(_Reader(io.BytesIO(preview.data)).pages[0].extract_text().split())
    assert "Trả lời về việc chuyển đổi số" in shown
    assert logged_in(other.leader).get(f"/documents/{reply.id}/preview.pdf").status_code == 404
    wrong = leader.form_post(f"/tasks/{sign_task}", {"decision": "approve", "pin": "sai-ma-pin"})
    assert wrong.status_code == 200 and "PIN" in wrong.get_data(as_text=True)
    assert wfq.get_task(sign_task).state != "done"
    resp = leader.form_post(f"/tasks/{sign_task}", {"decision": "approve", "pin": signing.pin})
    assert resp.status_code == 302, re.sub(r"\s+", " ", resp.get_data(as_text=True))[-1500:]
    db.session.expire_all()
    reply = db.session.get(Document, reply.id)
    assert reply.number_notation and re.match(r"^\d+/STTTT-", reply.number_notation)
    assert reply.status == "signed"

    _complete(logged_in(o.clerk), "Phát hành văn bản", {"copies": "2"}, doc=reply.id)
    db.session.expire_all()
    reply = db.session.get(Document, reply.id)
    assert reply.status in ("issued", "delivered")

    # Sở Tư pháp receives it awaiting registration; the clerk's form arrives filled from the delivered document.
    received = db.session.scalar(select(Document).where(Document.source_document_id == reply.id,
                                                        Document.direction == "incoming"))
    assert received is not None and received.status == "awaiting_registration"
    assert received.agency_id != reply.agency_id
    other_clerk = logged_in(other.clerk)
    task_id = _open_task(other_clerk, "Vào sổ văn bản đến", received.id)
    page = other_clerk.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Chữ ký số hợp lệ" in page
    assert "Lý do vẫn vào sổ" not in page  # asked only when the signatures did not verify
    values = _form_values(page)
    assert values.get("number_notation") == reply.number_notation
    assert values.get("summary") == reply.summary
    resp = other_clerk.form_post(f"/tasks/{task_id}", {k: v for k, v in values.items() if k != "csrf_token"})
    assert resp.status_code == 302, re.sub(r"\s+", " ", resp.get_data(as_text=True))[-1500:]
    db.session.expire_all()
    received = db.session.get(Document, received.id)
    assert received.status != "awaiting_registration" and received.number >= 1
    assert received.number_notation == reply.number_notation and received.signature_status == "valid"
    # The recipient's file: the sealed one, verified by tools nobody here wrote, number and date in its text.
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from pypdf import PdfReader

    (main,) = [a for a in received.attachments if a.content_type == "application/pdf"]
    pdf = other_clerk.get(f"/documents/files/{main.id}").get_data()
    signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert len(signatures) == 2
    for embedded in signatures:
        context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(signing.pki.root.cert_der)],
                                    allow_fetching=False)
        verdict = validate_pdf_signature(embedded, context)
        assert verdict.bottom_line and verdict.intact and verdict.trusted
    path = tmp_path / "received.pdf"
    path.write_bytes(pdf)
    shown = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
    assert shown.count("Signature Validation: Signature is Valid.") == 2
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert f"Số: {reply.number_notation}" in text and reply.issue_date.strftime("%d") in text
    # The sender sees, per recipient, that it was registered.
    sender_page = logged_in(o.clerk).get(f"/documents/{reply.id}").get_data(as_text=True)
    assert "Sở Tư pháp" in sender_page and "Đã vào sổ" in sender_page
    # The sending agency's staff cannot open the recipient's copy, and vice versa.
    assert logged_in(o.leader).get(f"/documents/{received.id}").status_code == 404
    assert logged_in(other.leader).get(f"/documents/{reply.id}").status_code == 404


def test_classified_document_is_refused_and_nothing_stored(offices, logged_in):
    o, _ = offices
    before = db.session.scalar(select(db.func.count()).select_from(Document))
    c = logged_in(o.clerk)
    resp = c.form_post("/documents/incoming/new", {
        "doc_type": "cong_van", "number_notation": "9/MAT", "issuer_name": "Bộ Công an", "issue_date": "20/11/2026",
        "summary": "Văn bản mật", "urgency": "thuong", "confidentiality": "mat", "channel": "paper"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Điều 7" in body
    assert db.session.scalar(select(db.func.count()).select_from(Document)) == before


def test_duplicate_registration_warns_then_accepts_when_confirmed(offices, logged_in):
    o, _ = offices
    _register(o, logged_in, number="300/UBND-TH")
    c = logged_in(o.clerk)
    data = {"doc_type": "cong_van", "number_notation": "300/UBND-TH", "issuer_name": "UBND tỉnh Vĩnh Phúc",
            "issue_date": "20/11/2026", "summary": "Bản thứ hai", "urgency": "thuong", "confidentiality": "thuong",
            "channel": "paper"}
    resp = c.form_post("/documents/incoming/new", data)
    assert resp.status_code == 200 and "Có thể trùng văn bản" in resp.get_data(as_text=True)
    resp = c.form_post("/documents/incoming/new", {**data, "confirm_duplicate": "1"})
    assert resp.status_code == 302


def test_leader_task_in_inbox_is_not_visible_to_other_agency(offices, logged_in):
    o, other = offices
    _register(o, logged_in, number="12/X-Y")
    task_id = _open_task(logged_in(o.leader), "Phân công xử lý")
    assert logged_in(other.leader).get(f"/tasks/{task_id}").status_code == 404
    assert db.session.get(HumanTask, task_id).agency_id != db.session.scalar(
        select(Department.agency_id).where(Department.id == other.dept_id))


def test_back_entry_after_an_outage_keeps_the_true_receipt_time(offices, logged_in):
    o, _ = offices
    c = logged_in(o.clerk)
    resp = c.form_post("/documents/incoming/new", {
        "doc_type": "cong_van", "number_notation": "88/UBND-TH", "issuer_name": "UBND tỉnh Vĩnh Phúc",
        "issue_date": "02/11/2026", "summary": "Văn bản nhận trong thời gian sự cố", "urgency": "thuong",
        "confidentiality": "thuong", "channel": "paper", "received_at": "03/11/2026 09:30"})
    assert resp.status_code == 302, re.sub(r"\s+", " ", resp.get_data(as_text=True))[-800:]
    doc = db.session.get(Document, int(resp.headers["Location"].rstrip("/").split("/")[-1]))
    assert doc.back_entered is True
    assert doc.received_at.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") == "03/11/2026 09:30"
    listing = c.get("/documents/incoming/").get_data(as_text=True)
    assert "nhập bù" in listing


def test_viewing_and_printing_are_audited(offices, logged_in):
    from app.accounts.models import AuditEvent

    o, _ = offices
    doc_id = _register(o, logged_in, number="61/UBND-KT")
    c = logged_in(o.clerk)
    assert c.get(f"/documents/{doc_id}").status_code == 200
    assert c.get("/documents/registers/?kind=incoming&year=2026").status_code == 200
    kinds = {(e.kind, e.target_id) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.user_id == o.clerk.user_id))}
    assert ("document_viewed", str(doc_id)) in kinds
    assert ("register_exported", "2026") in kinds
