"""Frozen values the documents domain hands to views, jobs and other domains."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from app.liaison.queries import TransmissionInfo

from .models import Attachment, Document


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    document_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    kind: str  # original | scan | rendered | signed
    page_count: int | None
    created_at: dt.datetime
    uploaded_by_id: int | None
    verification_status: str | None  # valid | untrusted | modified | expired | invalid | unsigned
    verification_label: str | None  # Vietnamese, as shown to the clerk
    signatures: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    agency_id: int
    direction: str
    status: str
    year: int | None
    register_id: int | None
    number: int | None
    number_notation: str | None
    notation: str | None
    doc_type_code: str | None
    doc_type_name: str | None
    issuer_name: str | None
    issuer_org_id: str | None
    issue_date: dt.date | None
    summary: str
    body: str | None
    signer_name: str | None
    signer_position: str | None
    signer_user_id: int | None
    pages: int | None
    copies: int | None
    urgency: str
    confidentiality: str
    recipients: str | None
    recipient_agency_codes: tuple[str, ...]
    due_date: dt.date | None
    drafting_department_id: int | None
    arrival_date: dt.date | None
    received_at: dt.datetime | None
    registered_at: dt.datetime | None
    back_entered: bool
    channel: str | None
    lead_department_id: int | None
    coordinating_department_ids: tuple[int, ...]
    source_document_id: int | None
    created_by_id: int | None
    created_at: dt.datetime
    issued_at: dt.datetime | None
    signature_status: str | None
    signature_label: str | None
    note: str | None
    attachments: tuple[AttachmentInfo, ...] = ()
    instance_id: int | None = None
    approved_at: dt.datetime | None = None
    signature_override_reason: str | None = None
    returned_at: dt.datetime | None = None
    returned_reason: str | None = None
    recalled_at: dt.datetime | None = None
    recall_reason: str | None = None


@dataclass(frozen=True)
class DeliveryEventInfo:
    status: str
    label: str
    at: dt.datetime
    actor_name: str | None
    note: str | None


@dataclass(frozen=True)
class DeliveryInfo:
    """One recipient of an issued document, as the sender sees it (Phụ lục VI III.1.e, k)."""

    recipient_code: str
    recipient_name: str
    status: str
    label: str
    status_at: dt.datetime
    reason: str | None
    events: tuple[DeliveryEventInfo, ...]
    # The package's journey through the outbox (None inside a paper-only issue or before the outbox existed).
    transmission: TransmissionInfo | None = None


@dataclass(frozen=True)
class RevisionInfo:
    """The draft as it was submitted at one round (Phụ lục VI III.5.a)."""

    number: int
    kind: str  # submitted | resubmitted
    at: dt.datetime
    by_name: str | None
    summary: str
    body: str | None
    recipients: str | None
    signer_name: str | None
    comment: str | None
    files: tuple[AttachmentInfo, ...]
    new_file_ids: tuple[int, ...]


def attachment_info(row: Attachment) -> AttachmentInfo:
    return AttachmentInfo(
        id=row.id,
        document_id=row.document_id,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        kind=row.kind,
        page_count=row.page_count,
        created_at=row.created_at,
        uploaded_by_id=row.uploaded_by_id,
        verification_status=row.verification_status,
        verification_label=row.verification_label,
        signatures=tuple(row.verification_detail or ()),
    )


def document_info(row: Document, *, instance_id: int | None = None, with_attachments: bool = True) -> DocumentInfo:
    return DocumentInfo(
        id=row.id,
        agency_id=row.agency_id,
        direction=row.direction,
        status=row.status,
        year=row.year,
        register_id=row.register_id,
        number=row.number,
        number_notation=row.number_notation,
        notation=row.notation,
        doc_type_code=row.doc_type.code if row.doc_type else None,
        doc_type_name=row.doc_type.name if row.doc_type else None,
        issuer_name=row.issuer_name,
        issuer_org_id=row.issuer_org_id,
        issue_date=row.issue_date,
        summary=row.summary,
        body=row.body,
        signer_name=row.signer_name,
        signer_position=row.signer_position,
        signer_user_id=row.signer_user_id,
        pages=row.pages,
        copies=row.copies,
        urgency=row.urgency,
        confidentiality=row.confidentiality,
        recipients=row.recipients,
        recipient_agency_codes=tuple(row.recipient_agency_codes or ()),
        due_date=row.due_date,
        drafting_department_id=row.drafting_department_id,
        arrival_date=row.arrival_date,
        received_at=row.received_at,
        registered_at=row.registered_at,
        back_entered=row.back_entered,
        channel=row.channel,
        lead_department_id=row.lead_department_id,
        coordinating_department_ids=tuple(d.id for d in row.coordinating_departments),
        source_document_id=row.source_document_id,
        created_by_id=row.created_by_id,
        created_at=row.created_at,
        issued_at=row.issued_at,
        signature_status=row.signature_status,
        signature_label=row.signature_label,
        note=row.note,
        attachments=tuple(attachment_info(a) for a in row.attachments) if with_attachments else (),
        instance_id=instance_id,
        approved_at=row.approved_at,
        signature_override_reason=row.signature_override_reason,
        returned_at=row.returned_at,
        returned_reason=row.returned_reason,
        recalled_at=row.recalled_at,
        recall_reason=row.recall_reason,
    )
