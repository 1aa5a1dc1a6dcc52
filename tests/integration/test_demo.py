"""`make run`'s demo signs out of the box: its leaders and clerks sign with the printed PINs, and the other
agency verifies the result against the demo root this installation trusts (issue #11, item 8)."""

from __future__ import annotations

from sqlalchemy import select

from app.demo import seed_demo
from app.documents import services
from app.documents.models import Document
from app.extensions import db
from app.tenancy import roles as R
from app.tenancy.accounts import staff_by_email
from app.workflow import queries as wfq
from app.workflow import services as wf
from app.workflow.info import ActorRef


def _actor(email: str) -> ActorRef:
    staff = staff_by_email(email)
    return ActorRef(user_id=staff.user_id, agency_id=staff.agency_id, roles=_roles(email),
                    department_id=staff.department_id)


def _roles(email: str) -> frozenset[str]:
    from app.demo import DEMO_STAFF

    (roles,) = [r for _c, local, _n, r, _d, _p in DEMO_STAFF if f"{local}@vinhphuc.gov.vn" == email]
    return frozenset(roles)


def _step(instance_id: int, kind: str):
    (task,) = [t for t in wfq.open_tasks(instance_id) if t.step_kind == kind]
    return task


def test_demo_accounts_sign_seal_and_the_recipient_verifies() -> None:
    accounts = {a.email: a for a in seed_demo()}
    db.session.commit()
    leader, clerk = accounts["giamdoc.stttt@vinhphuc.gov.vn"], accounts["vanthu.stttt@vinhphuc.gov.vn"]
    assert leader.pin and clerk.pin and leader.pin.isdigit() and len(leader.pin) == 6
    assert accounts["cv1.cntt.stttt@vinhphuc.gov.vn"].pin is None  # specialists do not sign
    again = {a.email: a for a in seed_demo()}  # idempotent: the same PINs, the same keys
    db.session.commit()
    assert again[leader.email].pin == leader.pin

    specialist = _actor("cv1.cntt.stttt@vinhphuc.gov.vn")
    boss = _actor(leader.email)
    doc = services.create_outgoing_draft(specialist.agency_id, actor=specialist, data={
        "doc_type": "cong_van", "summary": "Về việc dùng thử chữ ký số", "body": "Sở TTTT gửi Sở Tư pháp.",
        "recipients": "- Sở Tư pháp;", "recipient_agency_codes": ["isotp"], "signer_id": boss.user_id,
        "signer_position": "Giám đốc"})
    db.session.commit()
    wf.complete_task(_step(doc.instance_id, "review").id, _actor("tp.cntt.stttt@vinhphuc.gov.vn"),
                     {"decision": "approve"})
    wf.complete_task(_step(doc.instance_id, "sign").id, boss, {"decision": "approve"}, inputs={"pin": leader.pin})
    wf.complete_task(_step(doc.instance_id, "issue").id, _actor(clerk.email), {}, inputs={"pin": clerk.pin})
    db.session.commit()
    copy = db.session.scalar(select(Document).where(Document.source_document_id == doc.id))
    assert copy is not None and copy.status == "awaiting_registration"
    assert copy.signature_status == "valid", copy.signature_label
    assert R.LEADER in boss.roles
