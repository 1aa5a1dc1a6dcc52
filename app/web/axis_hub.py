"""The hub's HTTP face: QLVB as the province's document axis (LGSP) for other systems.

Active when QLVB_AXIS_HUB_SYSTEMS names at least one connected system. Served on any host (no agency: the
caller is a system, authenticated by ``Authorization: Bearer <token>`` and ``X-Axis-System: <code>``).

    POST /axis/v1/messages            an edXML package or status message -> 202 {"ids", "duplicate", "local"}
    GET  /axis/v1/messages?limit=N    what is held for the caller -> {"messages": [... payload base64 ...]}
    POST /axis/v1/messages/<id>/ack   the caller has it -> {"acked": true}
    GET  /axis/v1/messages/<id>       {"state": "held" | "acked"}

Refusals are JSON {"error": "<Vietnamese message>"} with 401/403, 404, 413 or 422.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from flask import Blueprint, Flask, jsonify, request

from app.core.errors import DomainError
from app.extensions import csrf, db
from app.interchange import EnvelopeError
from app.liaison import hub
from app.liaison.settings import hub_systems

log = logging.getLogger("qlvb.web.axis_hub")
bp = Blueprint("axis_hub", __name__, url_prefix="/axis/v1")


def _caller() -> str:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    return hub.authenticate(request.headers.get("X-Axis-System", ""), token)


def _refused(error: DomainError) -> Any:
    db.session.rollback()
    status = error.http_status
    if isinstance(error, EnvelopeError) and status not in (413,):
        status = 422
    log.warning("axis hub %s %s refused (%s): %s", request.method, request.path, status, error.log)
    return jsonify({"error": error.message, "code": error.code}), status


@bp.before_request
def _enabled() -> Any:
    if not hub_systems():
        return jsonify({"error": "Hệ thống này không làm trục liên thông (chưa cấu hình QLVB_AXIS_HUB_SYSTEMS)"}), 404
    return None


@bp.post("/messages")
def post_message() -> Any:
    try:
        system = _caller()
        accepted = hub.accept(system, request.get_data(cache=False))
        db.session.commit()
    except DomainError as error:
        return _refused(error)
    return jsonify({"ids": list(accepted.ids), "duplicate": accepted.duplicate, "local": list(accepted.local)}), 202


@bp.get("/messages")
def list_messages() -> Any:
    try:
        system = _caller()
        limit = request.args.get("limit", "50")
        rows = hub.waiting(system, int(limit) if limit.isdigit() else 50)
    except DomainError as error:
        return _refused(error)
    db.session.rollback()
    return jsonify({"messages": [
        {"id": m.id, "kind": m.kind, "document_id": m.document_id, "sender_org": m.sender_org,
         "recipient_org": m.recipient_org, "code": m.code, "payload": base64.b64encode(m.payload).decode("ascii")}
        for m in rows
    ]})


@bp.post("/messages/<message_id>/ack")
def ack_message(message_id: str) -> Any:
    try:
        hub.acknowledge(_caller(), message_id)
        db.session.commit()
    except DomainError as error:
        return _refused(error)
    return jsonify({"acked": True})


@bp.get("/messages/<message_id>")
def message_state(message_id: str) -> Any:
    try:
        state = hub.message_state(_caller(), message_id)
    except DomainError as error:
        return _refused(error)
    db.session.rollback()
    return jsonify({"state": state})


def install(app: Flask) -> None:
    csrf.exempt(bp)  # systems, not browsers: no session cookie is ever read here
    app.register_blueprint(bp)
