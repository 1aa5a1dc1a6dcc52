"""Two QLVB deployments, two SQLite/PG databases, one hub over loopback HTTP (issue #13 items 2, 3, 5).

Deployment A is the test process (the session app); deployment B is tests/integration/liaison/peer.py in its
own process and database, and is also the province's hub: A sends through B's /axis/v1 with the HTTP connector
and polls it for the statuses B's agency sends back. The hub is down for a while (B's process is stopped):
nothing is lost, the outbox retries; duplicates and statuses out of order change nothing twice.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.axis import HttpConnector
from app.core import clock
from app.documents import deliveries, packages
from app.documents.models import Document
from app.extensions import db
from app.interchange import OrganInfo, ResponseForInfo, StatusCode, StatusInfo, build_status
from app.jobs import bodies
from app.liaison.models import InboxMessage, OutboxMessage
from app.workflow import services as wf
from tests.integration.documents.test_outgoing import _draft, _task, _to_signature

ROOT = Path(__file__).resolve().parents[3]
B_ORG = "000.82.01.H61"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Peer:
    def __init__(self, cfg: dict[str, Any]):
        self.cfg = cfg
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.integration.liaison.peer", json.dumps(self.cfg)],
                                     cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     stderr=open(Path(self.cfg["work"]) / "peer.log", "a"))  # noqa: SIM115
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        assert json.loads(line or "{}").get("ready"), (Path(self.cfg["work"]) / "peer.log").read_text()[-3000:]

    def call(self, cmd: str, **args: Any) -> Any:
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, "args": args}) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        assert "error" not in answer, answer
        return answer

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
            self.proc.stdin.flush()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture
def axis(app, tmp_path, signing):
    """A's axis settings pointing at B's hub; restored afterwards."""
    port = _free_port()
    trust = tmp_path / "b-trust"
    trust.mkdir()
    (trust / "root.der").write_bytes(signing.pki.root.cert_der)
    saved = {k: app.config.get(k) for k in ("QLVB_AXIS_URL", "QLVB_AXIS_SYSTEM_CODE", "QLVB_AXIS_TOKEN",
                                             "QLVB_AXIS_TIMEOUT", "QLVB_EXCHANGE_RETRY_BASE")}
    app.config.update({"QLVB_AXIS_URL": f"http://127.0.0.1:{port}/axis/v1", "QLVB_AXIS_SYSTEM_CODE": "QLVBA",
                       "QLVB_AXIS_TOKEN": "token-of-a", "QLVB_AXIS_TIMEOUT": 20, "QLVB_EXCHANGE_RETRY_BASE": 30})
    peers: list[Peer] = []

    def make(a_org: str) -> Peer:
        peer = Peer({"work": str(tmp_path), "port": port, "organ_id": B_ORG, "trust_roots": str(trust),
                     "hub_systems": {"QLVBA": {"token": "token-of-a", "organs": [a_org]}}})
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        peer.stop()
    app.config.update(saved)


def _due_now() -> None:
    """Time passes: every waiting message is due (the backoff itself is checked in test_outbox.py)."""
    for row in db.session.scalars(select(OutboxMessage).where(OutboxMessage.state == "pending")):
        row.next_attempt_at = clock.now() - dt.timedelta(seconds=1)
    db.session.commit()


def _status(document_id: str, code: StatusCode, a_org: str) -> bytes:
    return build_status(StatusInfo(
        response_for=ResponseForInfo(organ_id=a_org, document_id=document_id),
        sender=OrganInfo(organ_id=B_ORG, organ_name="Sở Tài chính tỉnh Bắc Ninh"), code=code,
        timestamp=dt.datetime(2026, 12, 3, 9, 0, 0), description=code.label))


def test_two_deployments_exchange_through_the_hub(office, signing, axis) -> None:
    from app.tenancy.models import Agency

    sender = office(abbreviation="STTTT")
    a_org = f"000.81.{sender.agency_id % 100:02d}.H61"
    db.session.get(Agency, sender.agency_id).org_identifier = a_org
    db.session.commit()
    peer = axis(a_org)

    # A issues a sealed document to B's agency while the hub is down: it waits in A's outbox.
    doc = _draft(sender, recipient_agency_codes=[B_ORG])
    _to_signature(sender, doc, signing)
    wf.complete_task(_task(doc.instance_id, "issue").id, sender.actors["clerk"], {})
    db.session.commit()
    issued = db.session.get(Document, doc.id)
    document_id = issued.exchange_document_id
    assert document_id.startswith(a_org + ",") and issued.status == "delivered"
    (row,) = db.session.scalars(select(OutboxMessage).where(OutboxMessage.document_id == document_id))
    assert (row.kind, row.recipient_org, row.state) == ("package", B_ORG, "pending")
    assert bodies.send_outbox() == 0
    db.session.refresh(row)
    assert (row.state, row.attempts) == ("pending", 1) and "kết nối" not in (row.last_error or "x")
    assert row.next_attempt_at > clock.now()
    assert bodies.poll_axis() == 0  # the poller shrugs the outage off too

    # The hub comes up: the retry delivers; B verifies with its own roots and holds "Đã đến" for A.
    peer.start()
    _due_now()
    assert bodies.send_outbox() == 1
    db.session.refresh(row)
    assert (row.state, row.route, row.attempts) == ("sent", "http", 2)
    (copy,) = peer.call("state")["documents"]
    sealed = next(a for a in issued.attachments if a.kind == "sealed")
    assert (copy["status"], copy["channel"], copy["exchange_document_id"]) == (
        "awaiting_registration", "electronic", document_id)
    assert copy["number_notation"] == issued.number_notation and copy["summary"] == issued.summary
    assert copy["urgency"] == "khan" and copy["signature_status"] == "valid"
    assert (sealed.filename, sealed.sha256, "valid") in [tuple(f) for f in copy["files"]]
    assert bodies.poll_axis() == 1
    (delivery,) = deliveries.deliveries_of(doc.id)
    assert (delivery.status, delivery.recipient_org_id) == ("arrived", B_ORG)

    # A replayed package (a retry after a lost answer) is acknowledged and makes no second copy.
    connector = HttpConnector(axis_url(), system_code="QLVBA", token="token-of-a")
    again = connector.send(row.payload, kind="package", document_id=document_id, sender_org=a_org,
                           recipient_org=B_ORG)
    assert again.duplicate and len(peer.call("state")["documents"]) == 1

    # B registers and assigns; its statuses wait at the hub while A's poller is away, then arrive in order.
    peer.call("register", document_id=copy["id"])
    peer.call("assign", document_id=copy["id"])
    assert peer.call("send")["sent"] == 0  # held at once by B's own hub (same database)
    assert bodies.poll_axis() == 2
    db.session.refresh(delivery)
    assert delivery.status == "assigned"

    # Out of order and twice: 06 then 05 then 06 again -> done, once; nothing goes backwards.
    for code in (StatusCode.COMPLETED, StatusCode.PROCESSING, StatusCode.COMPLETED):
        connector.send(_status(document_id, code, a_org), kind="status", document_id=document_id, sender_org=B_ORG,
                       recipient_org=a_org, code=code.value)
    assert bodies.poll_axis() == 2  # the hub held the repeated 06 once
    db.session.refresh(delivery)
    events = [e.status for e in deliveries.events_of([delivery.id])[delivery.id]]
    assert delivery.status == "done" and events == ["sent", "arrived", "registered", "assigned", "done"]
    assert bodies.poll_axis() == 0  # everything was acknowledged
    assert db.session.scalar(select(InboxMessage).where(InboxMessage.code == "05")) is not None

    # The hub goes down with a message for A held; after it restarts, nothing was lost.
    peer.stop()
    peer.start()
    assert peer.call("state")["held"][-1][2] is True  # all acknowledged before the restart

    # Refusals at the hub: a broken package and an unknown recipient code, each with a Vietnamese reason.
    from app.axis import AxisRefusedError

    with pytest.raises(AxisRefusedError, match="Gói tin edXML không hợp lệ"):
        connector.send(b"<edXML>broken", kind="package", document_id=document_id, sender_org=a_org,
                       recipient_org=B_ORG)
    foreign = row.payload.replace(B_ORG.encode(), b"000.99.99.H61")
    with pytest.raises(AxisRefusedError, match=r"không phục vụ cơ quan mang mã định danh 000\.99\.99\.H61"):
        connector.send(foreign, kind="package", document_id=document_id, sender_org=a_org,
                       recipient_org="000.99.99.H61")

    # A recalls: the recall travels as A's own message and B withdraws its copy.
    from app.documents import withdrawal

    withdrawal.recall_outgoing(doc.id, actor=sender.actors["clerk"], reason="Sai số liệu tại Điều 2")
    db.session.commit()
    assert bodies.send_outbox() == 1
    (copy,) = peer.call("state")["documents"]
    assert (copy["status"], copy["recall_reason"]) == ("withdrawn", "Sai số liệu tại Điều 2")
    assert deliveries.deliveries_of(doc.id)[0].status == "recalled"
    assert packages.document_id_of(issued, db.session.get(Agency, sender.agency_id)) == document_id


def axis_url() -> str:
    from flask import current_app

    return str(current_app.config["QLVB_AXIS_URL"])
