"""A second QLVB deployment in its own process and SQLite database, acting as the province's hub.

Started by test_two_deployments.py: ``python -m tests.integration.liaison.peer CONFIG_JSON``. It serves the app
on 127.0.0.1:<port> (werkzeug, threaded) and answers one JSON command per stdin line with one JSON line.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
ROLES = frozenset({"clerk", "leader", "head", "specialist", "legal", "agency_admin", "soict_admin"})


def main() -> None:
    cfg = json.loads(sys.argv[1])
    work = Path(cfg["work"])
    fresh = not (work / "peer.db").exists()
    from werkzeug.serving import make_server

    from app import create_app

    app = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'peer.db'}", "SECRET_KEY": "peer-" + "x" * 40,
        "QLVB_INSTANCE_DIR": str(work / "instance"), "QLVB_UPLOAD_DIR": str(work / "files"),
        "QLVB_SIGNING_DIR": str(work / "signing"), "QLVB_TRUST_ROOTS": cfg["trust_roots"], "SERVER_NAME": None,
        "QLVB_AXIS_HUB_SYSTEMS": json.dumps(cfg["hub_systems"]), "QLVB_EXCHANGE_RETRY_BASE": 1,
    })
    with app.app_context():
        if fresh:
            _setup(cfg)
    server = make_server("127.0.0.1", int(cfg["port"]), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "quit":
            break
        with app.app_context():
            try:
                answer = COMMANDS[command["cmd"]](cfg, **command.get("args", {}))
            except Exception as error:  # the test reads the failure
                from app.extensions import db

                db.session.rollback()
                answer = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer, default=str), flush=True)
    server.shutdown()


def _setup(cfg: dict[str, Any]) -> None:
    from app.cli.main import run_init
    from app.documents.workflow_ops import register_operations
    from app.extensions import db
    from app.tenancy.accounts import create_staff_account
    from app.tenancy.definitions import AgencyDef, DepartmentDef, PositionDef
    from app.tenancy.queries import agency_by_code
    from app.tenancy.services import import_agency
    from app.workflow.operations import registered_operations
    from app.workflow.services import publish_version

    run_init()
    register_operations()
    import_agency(AgencyDef(
        code="peerstc", name="Sở Tài chính tỉnh Bắc Ninh", short_name="Sở Tài chính", abbreviation="STC",
        governing_body="UBND TỈNH BẮC NINH", domain="peerstc.bacninh.gov.vn", org_identifier=cfg["organ_id"],
        kind="so", place="Bắc Ninh", is_central=False, numbering_policy="single",
        positions=(PositionDef("truong", "Giám đốc", "leader"), PositionDef("cv", "Chuyên viên", "specialist")),
        departments=(DepartmentDef("vp", "Văn phòng", "VP"), DepartmentDef("nv", "Phòng Nghiệp vụ", "NV")),
    ))
    db.session.commit()
    agency = agency_by_code("peerstc")
    xml = (ROOT / "processes" / "templates" / "incoming.bpmn").read_text(encoding="utf-8")
    publish_version(agency.id, "incoming", xml, by_user_id=None, note="", known_roles=ROLES, known_forms=None,
                    known_operations=registered_operations())
    for role, dept in (("clerk", "vp"), ("leader", None), ("head", "nv"), ("specialist", "nv")):
        create_staff_account(agency_code="peerstc", full_name=f"Cán bộ {role}", email=f"{role}@peerstc.test.vn",
                             roles=[role], password="Pw@" + "peer1234567", department_code=dept)
    db.session.commit()


def _actor(role: str) -> Any:
    from flask_appbuilder.security.sqla.models import User
    from sqlalchemy import select

    from app.extensions import db
    from app.tenancy.models import Staff
    from app.tenancy.queries import agency_by_code
    from app.workflow.info import ActorRef

    agency = agency_by_code("peerstc")
    staff = db.session.scalar(select(Staff).join(User, User.id == Staff.user_id)
                              .where(User.email == f"{role}@peerstc.test.vn"))
    return ActorRef(user_id=staff.user_id, agency_id=agency.id, roles=frozenset({role}),
                    department_id=staff.department_id)


def state(cfg: dict[str, Any]) -> dict[str, Any]:
    from sqlalchemy import select

    from app.documents.models import Document
    from app.extensions import db
    from app.liaison.models import HubMessage, InboxMessage
    from app.tenancy.queries import agency_by_code

    agency = agency_by_code("peerstc")
    docs = db.session.scalars(select(Document).where(Document.agency_id == agency.id).order_by(Document.id))
    out = {"documents": [
        {"id": d.id, "status": d.status, "number_notation": d.number_notation, "issuer_name": d.issuer_name,
         "exchange_document_id": d.exchange_document_id, "signature_status": d.signature_status,
         "channel": d.channel, "summary": d.summary, "urgency": d.urgency, "recall_reason": d.recall_reason,
         "files": [(a.filename, a.sha256, a.verification_status) for a in d.attachments]}
        for d in docs]}
    out["inbox"] = [(r.kind, r.code, r.result)
                    for r in db.session.scalars(select(InboxMessage).order_by(InboxMessage.id))]
    out["held"] = [(r.kind, r.code, r.acked_at is not None)
                   for r in db.session.scalars(select(HubMessage).order_by(HubMessage.id))]
    db.session.rollback()
    return out


def register(cfg: dict[str, Any], document_id: int) -> dict[str, Any]:
    from app.documents import services
    from app.extensions import db

    services.register_received(document_id, actor=_actor("clerk"), data={})
    db.session.commit()
    return {"ok": True}


def assign(cfg: dict[str, Any], document_id: int) -> dict[str, Any]:
    from app.extensions import db
    from app.tenancy.queries import departments_of
    from app.workflow import queries as wf_queries
    from app.workflow import services as wf

    actor = _actor("leader")
    (instance,) = wf_queries.instances_for_subject("incoming", document_id, agency_id=actor.agency_id)
    (task,) = [t for t in wf_queries.open_tasks(instance.id) if t.step_kind == "assign"]
    nv = next(d.id for d in departments_of(actor.agency_id) if d.code == "nv")
    wf.complete_task(task.id, actor, {"lead_department_id": nv})
    db.session.commit()
    return {"ok": True}


def send(cfg: dict[str, Any]) -> dict[str, Any]:
    from app.jobs import bodies

    return {"sent": bodies.send_outbox()}


COMMANDS = {"state": state, "register": register, "assign": assign, "send": send}

if __name__ == "__main__":
    main()
