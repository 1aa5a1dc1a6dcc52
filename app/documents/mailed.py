"""A document received by e-mail lands as "chờ vào sổ" (Điều 21, 22), like a package from the axis.

app.intake reads the mailbox and calls ``receive_email``; the clerk registers it with the usual form, prefilled
with the sender and the subject. Every file passes the upload checks BEFORE anything is stored: one refused file
refuses the message and nothing of it is kept (AttachmentRefusedError names the file and the reason).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.core import clock
from app.core.text import nfc
from app.extensions import db
from app.workflow import services as wf
from app.workflow.info import ActorRef

from .attachments import UploadInfo, check_file, new_attachment
from .models import Attachment, Document
from .settings import max_upload_bytes
from .signatures import verify_attachment
from .storage import Storage, default_storage

log = logging.getLogger("qlvb.documents.mail")

EML_TYPE = "message/rfc822"


@dataclass(frozen=True)
class MailedDocumentInfo:
    sender_name: str
    sender_address: str
    subject: str
    received_at: dt.datetime
    raw: bytes = field(repr=False)  # the whole message, kept as the .eml
    files: tuple[UploadInfo, ...] = ()


def check_mailed_files(files: Sequence[UploadInfo]) -> list:
    """The upload checks, for every file; the first refused one raises AttachmentRefusedError."""
    return [check_file(f, max_bytes=max_upload_bytes()) for f in files]


def receive_email(agency_id: int, info: MailedDocumentInfo, *, storage: Storage | None = None) -> int:
    """Create the incoming document awaiting registration; start the agency's incoming process at its register
    step on behalf of the agency's clerk. Returns the document id."""
    from .packages import system_user_id
    from .services import INCOMING_PROCESS, _summarise_signatures, _workflow_data, refresh_search_text

    checked = check_mailed_files(info.files)  # before any byte is stored
    store = storage or default_storage()
    now = clock.now()
    received = info.received_at
    summary = nfc(info.subject).strip() or "(Thư không có tiêu đề)"
    doc = Document(
        agency_id=agency_id, direction="incoming", status="awaiting_registration", confidentiality="thuong",
        issuer_name=(nfc(info.sender_name).strip() or info.sender_address or None),
        summary=summary[:2000], urgency="thuong", recipient_agency_codes=[], channel="email",
        received_at=received, arrival_date=received.astimezone(clock.VN_TZ).date(), back_entered=False,
        note=f"Nhận qua thư điện tử từ {info.sender_address}" if info.sender_address else "Nhận qua thư điện tử",
        created_at=now, updated_at=now,
    )
    for upload, facts in zip(info.files, checked, strict=True):
        row = new_attachment(facts, upload.data, storage=store, kind="original", uploaded_by_id=None)
        doc.attachments.append(row)
        if facts.content_type == "application/pdf":
            verify_attachment(row, upload.data, agency_code=_agency_code(agency_id))
    doc.attachments.append(Attachment(
        filename="thu-dien-tu.eml", content_type=EML_TYPE, size=len(info.raw),
        sha256=hashlib.sha256(info.raw).hexdigest(), storage_key=store.put(info.raw), kind="email",
        uploaded_by_id=None, created_at=now))
    _summarise_signatures(doc)
    db.session.add(doc)
    db.session.flush()
    refresh_search_text(doc)
    clerk = ActorRef(user_id=system_user_id(agency_id), agency_id=agency_id, roles=frozenset({"clerk"}))
    wf.start_instance(agency_id, INCOMING_PROCESS, subject_type="incoming", subject_id=doc.id,
                      data=_workflow_data(doc), actor=clerk)
    log.info("e-mail from %s received for agency %s as document %s (%d file(s))", info.sender_address, agency_id,
             doc.id, len(checked))
    return doc.id


def _agency_code(agency_id: int) -> str:
    from app.tenancy.models import Agency

    agency = db.session.get(Agency, agency_id)
    assert agency is not None
    return agency.code
