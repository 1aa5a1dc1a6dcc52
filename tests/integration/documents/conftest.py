"""Fixtures for the documents domain: an agency with its staff and its own published processes."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PROCESSES = Path(__file__).resolve().parents[3] / "processes"
ROLES = frozenset({"clerk", "leader", "head", "specialist", "legal", "agency_admin", "soict_admin"})


@dataclass
class Office:
    agency_id: int
    code: str
    depts: dict[str, int]
    actors: dict[str, Any]
    accounts: dict[str, Any]


@pytest.fixture
def office(make_agency: Callable[..., Any], make_account: Callable[..., Any], signing: Any) -> Callable[..., Office]:
    """A fresh agency whose incoming/outgoing processes are the SoICT templates, with one person per role; its
    seal and its leader's personal certificate are installed (PIN ``signing.pin``) unless ``keys=False``."""
    from app.documents.workflow_ops import register_operations
    from app.extensions import db
    from app.tenancy.queries import departments_of
    from app.workflow.info import ActorRef
    from app.workflow.operations import registered_operations
    from app.workflow.services import publish_version

    register_operations()

    def factory(*, abbreviation: str = "STN", numbering_policy: str = "single", keys: bool = True,
                paper: bool = False) -> Office:
        agency = make_agency(abbreviation=abbreviation)
        from app.tenancy.models import Agency

        row = db.session.get(Agency, agency.id)
        row.numbering_policy, row.issues_on_paper = numbering_policy, paper
        for key in ("incoming", "outgoing"):
            xml = (PROCESSES / "templates" / f"{key}.bpmn").read_text(encoding="utf-8")
            publish_version(agency.id, key, xml, by_user_id=None, note="", known_roles=ROLES, known_forms=None,
                            known_operations=registered_operations())
        db.session.commit()
        depts = {d.code: d.id for d in departments_of(agency.id)}
        spec = {"clerk": ("clerk", "vp"), "leader": ("leader", None), "head": ("head", "nv"),
                "specialist": ("specialist", "nv"), "outsider": ("specialist", "vp")}
        actors, accounts = {}, {}
        for key, (role, dept) in spec.items():
            account = make_account(agency.code, [role], department_code=dept, name=f"Cán bộ {key}")
            accounts[key] = account
            actors[key] = ActorRef(user_id=account.user_id, agency_id=agency.id, roles=frozenset({role}),
                                   department_id=depts[dept] if dept else None)
        db.session.commit()  # end the read transaction: on SQLite it holds the write lock
        if keys:
            signing.install_agency(agency.code)
            signing.install_person(agency.code, accounts["leader"].email, "Cán bộ leader")
        return Office(agency.id, agency.code, depts, actors, accounts)

    return factory


_NUMBERS = itertools.count(secrets.randbelow(9000) + 1000)


def incoming_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "doc_type": "cong_van",
        # Unique within the test session: a repeated number would (rightly) trip the duplicate warning.
        "number_notation": f"{next(_NUMBERS)}/UBND-VX",
        "issuer_name": "Ủy ban nhân dân tỉnh Vĩnh Phúc",
        "issue_date": dt.date(2026, 11, 2),
        "summary": "V/v triển khai phần mềm quản lý văn bản",
        "signer_name": "Nguyễn Văn Bình",
        "signer_position": "Phó Chủ tịch",
        "pages": 2,
        "urgency": "thuong",
        "channel": "paper",
    }
    data.update(overrides)
    return data


def upload_files(app: Any) -> set[Path]:
    root = Path(app.config["QLVB_UPLOAD_DIR"])
    return {p for p in root.rglob("*") if p.is_file()}


def png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="session")
def sample_pdf() -> bytes:
    from app.render import DocumentRenderInfo, render_document

    return render_document(DocumentRenderInfo(
        governing_body="UBND TỈNH VĨNH PHÚC", agency_name="SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
        number_notation="15/QĐ-STTTT", place="Vĩnh Yên", issue_date=dt.date(2026, 11, 5), type_name="Quyết định",
        summary="Về việc ban hành quy chế lưu trữ hồ sơ điện tử", body=("Căn cứ Nghị định số 30/2020/NĐ-CP;",),
        signer_authority="KT. GIÁM ĐỐC", signer_position="PHÓ GIÁM ĐỐC", signer_name="Nguyễn Văn An",
        recipients=("Như Điều 3;", "Lưu: VT, VP."),
    ))
