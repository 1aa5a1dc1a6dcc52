"""Load the diagrams shipped in processes/ into published versions (``flask qlvb init``, idempotent).

``processes/templates/<key>.bpmn`` become SoICT template versions; ``processes/<agency>/<key>.bpmn`` an
agency's own. A file is published only when no version of that owner and key has its sha256 yet, so
re-running init changes nothing and editing a file yields exactly one new version.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.tenancy.queries import agency_by_code
from app.workflow.errors import DiagramInvalidError
from app.workflow.loader import sha256_of
from app.workflow.models import ProcessVersion

from .audit import record_change
from .diagrams import validation_context
from .forms import FORM_KEY_RE  # same slug rule for process keys

log = logging.getLogger("qlvb.designer.sync")


@dataclass
class SyncResult:
    published: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: dict[str, list[str]] = field(default_factory=dict)


def _known(agency_id: int | None, key: str, sha: str) -> bool:
    owner = ProcessVersion.agency_id.is_(None) if agency_id is None else ProcessVersion.agency_id == agency_id
    return db.session.scalar(
        select(ProcessVersion.id).where(owner, ProcessVersion.process_key == key, ProcessVersion.sha256 == sha).limit(1)
    ) is not None


def sync_processes(processes_dir: str | Path, forms_dir: str | Path) -> SyncResult:
    from app.workflow.services import publish_version

    root = Path(processes_dir)
    result = SyncResult()
    folders = []
    if root.is_dir():
        folders = [root / "templates", *sorted(p for p in root.iterdir() if p.is_dir() and p.name != "templates")]
    for folder in folders:
        agency_id: int | None = None
        if folder.name != "templates":
            agency = agency_by_code(folder.name)
            if agency is None:
                log.warning("processes/%s: no agency with that code, skipped", folder.name)
                continue
            agency_id = agency.id
        ctx = validation_context(agency_id, forms_dir=str(forms_dir), processes_dir=str(root))
        # What the version history shows people: where the diagram came from, in words, not a path.
        origin = "quy trình mẫu kèm theo phần mềm" if agency_id is None else "tệp quy trình riêng của cơ quan"
        for path in sorted(folder.glob("*.bpmn")):
            key = path.stem
            label = f"{folder.name}/{path.name}"
            if not FORM_KEY_RE.match(key):
                result.refused[label] = ["tên tệp phải là mã quy trình (chữ thường, số, dấu gạch dưới)"]
                continue
            xml = path.read_text(encoding="utf-8")
            if _known(agency_id, key, sha256_of(xml)):
                result.unchanged.append(label)
                continue
            try:
                with db.session.begin_nested():
                    version = publish_version(agency_id, key, xml, by_user_id=None, note=f"Nạp từ {origin}",
                                              known_roles=ctx.roles, known_forms=ctx.forms,
                                              known_operations=ctx.operations, contract=ctx.contract(key))
            except DiagramInvalidError as exc:
                result.refused[label] = [p.message_vi for p in exc.problems]
                log.error("processes/%s refused: %s", label, "; ".join(result.refused[label]))
                continue
            record_change(agency_id=agency_id, actor_id=None, area="diagram", action="sync", subject=key,
                          summary=f"Nạp từ {origin} thành phiên bản số {version.number}",
                          after={"version_id": version.id, "number": version.number, "sha256": version.sha256})
            result.published.append(label)
    log.info("process sync: %d published, %d unchanged, %d refused", len(result.published), len(result.unchanged),
             len(result.refused))
    return result
