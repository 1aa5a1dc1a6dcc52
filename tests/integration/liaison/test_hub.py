"""The hub's HTTP face in-process (credentials, refusals, hold/poll/ack) and an axis that refuses for good."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app.documents import deliveries
from app.documents.models import Document
from app.extensions import db
from app.jobs import bodies
from app.liaison.models import OutboxMessage
from tests.integration.liaison.test_outbox import _issue, _outbox

PEER_ORG = "000.77.01.H61"


@pytest.fixture
def hub(app):
    app.config["QLVB_AXIS_HUB_SYSTEMS"] = json.dumps({"PEER": {"token": "s3cret", "organs": [PEER_ORG]}})
    yield app.test_client()
    app.config["QLVB_AXIS_HUB_SYSTEMS"] = ""


AUTH = {"Authorization": "Bearer s3cret", "X-Axis-System": "PEER"}


def test_the_hub_holds_for_connected_systems_and_refuses_the_rest(office, signing, hub) -> None:
    sender = office(abbreviation="STTTT")
    doc = _issue(sender, PEER_ORG, signing)  # served by our hub: held at once for PEER
    (row,) = _outbox(doc.exchange_document_id)
    assert (row.state, row.route) == ("sent", "hub")

    assert hub.get("/axis/v1/messages", headers={**AUTH, "Authorization": "Bearer wrong"}).status_code == 403
    listed = hub.get("/axis/v1/messages", headers=AUTH).get_json()["messages"]
    (held,) = [m for m in listed if m["document_id"] == doc.exchange_document_id]
    assert base64.b64decode(held["payload"]) == row.payload and held["recipient_org"] == PEER_ORG
    assert hub.get(f"/axis/v1/messages/{held['id']}", headers=AUTH).get_json() == {"state": "held"}
    assert hub.post(f"/axis/v1/messages/{held['id']}/ack", headers=AUTH).get_json() == {"acked": True}
    assert hub.get(f"/axis/v1/messages/{held['id']}", headers=AUTH).get_json() == {"state": "acked"}
    assert held["id"] not in [m["id"] for m in hub.get("/axis/v1/messages", headers=AUTH).get_json()["messages"]]

    # The peer's answer for our agency is received here at once and moves the sender's row.
    from app.interchange import OrganInfo, ResponseForInfo, StatusCode, StatusInfo, build_status

    sender_org = doc.exchange_document_id.split(",")[0]
    status = build_status(StatusInfo(
        response_for=ResponseForInfo(organ_id=sender_org, document_id=doc.exchange_document_id),
        sender=OrganInfo(organ_id=PEER_ORG), code=StatusCode.REGISTERED,
        timestamp=dt.datetime(2026, 12, 3, 8, 0)))
    answer = hub.post("/axis/v1/messages", data=status, headers={**AUTH, "Content-Type": "application/xml"})
    assert answer.status_code == 202 and answer.get_json()["local"] == [sender_org]
    assert deliveries.deliveries_of(doc.id)[0].status == "registered"

    broken = hub.post("/axis/v1/messages", data=b"<edXML><x/>", headers=AUTH)
    assert broken.status_code == 422 and "Gói tin edXML không hợp lệ" in broken.get_json()["error"]
    foreign = row.payload.replace(PEER_ORG.encode(), b"000.66.66.H61")
    unknown = hub.post("/axis/v1/messages", data=foreign, headers=AUTH)
    assert unknown.status_code == 422 and "000.66.66.H61" in unknown.get_json()["error"]


class _Refusing(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"error": "Mã định danh 000.55.00.G22 chưa đăng ký trên trục"}).encode()
        self.send_response(422)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


def test_an_axis_that_refuses_for_good_shows_the_sender_why(app, office, signing) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update({"QLVB_AXIS_URL": f"http://127.0.0.1:{server.server_address[1]}/axis/v1",
                       "QLVB_AXIS_SYSTEM_CODE": "QLVB", "QLVB_AXIS_TOKEN": "t"})
    try:
        doc = _issue(office(abbreviation="STTTT"), "000.55.00.G22", signing)
        bodies.send_outbox()
    finally:
        app.config.update({"QLVB_AXIS_URL": "", "QLVB_AXIS_SYSTEM_CODE": "", "QLVB_AXIS_TOKEN": ""})
        server.shutdown()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.document_id == doc.exchange_document_id))
    assert row.state == "refused" and "chưa đăng ký trên trục" in row.last_error
    (delivery,) = deliveries.deliveries_of(doc.id)
    assert delivery.status == "returned" and "chưa đăng ký trên trục" in delivery.reason
    assert db.session.get(Document, doc.id).status == "delivered"
    assert bodies.send_outbox() == 0  # refused for good: never sent again
