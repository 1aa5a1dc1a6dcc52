"""Documents (văn bản đến/đi), their registers (sổ) and attachments (Nghị định 30/2020, Phụ lục VI).

Names of issuing and receiving agencies are copied onto the document as they were on its date:
agencies get renamed and merged, a document's register line must not change with them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.core import clock
from app.core.text import notation_key
from app.extensions import Model

JsonType = JSON().with_variant(JSONB(), "postgresql")

DIRECTIONS = ("incoming", "outgoing")
URGENCIES = ("thuong", "khan", "thuong_khan", "hoa_toc")
CHANNELS = ("paper", "electronic", "email", "other")
INCOMING_STATUSES = ("awaiting_registration", "registered", "in_progress", "done")
INCOMING_STATUSES = (*INCOMING_STATUSES, "returned", "withdrawn")
OUTGOING_STATUSES = ("draft", "in_review", "returned", "approved", "signed", "issued", "delivered", "recalled")
REGISTER_KINDS = ("incoming", "outgoing", "copy")
# documents/chain.py says what each kind is in the outgoing chain; "rendered" is the kind before it.
ATTACHMENT_KINDS = ("original", "appendix", "scan", "preview", "final", "signed", "sealed", "appendix_signed",
                    "rendered")
# The register key when an agency numbers all types in one series (numbering_policy "single").
ALL_TYPES = "*"


class DocumentType(Model):
    """One of the 29 types of Decree 30 (Art 7) or a copy form; loaded from data/document_types.yaml."""

    __tablename__ = "document_type"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    # Exact case (QyĐ, CTr, TTr, TrS); None for công văn and thư công, which have none.
    abbreviation: Mapped[str | None] = mapped_column(String(16))
    layout: Mapped[str] = mapped_column(String(32), nullable=False, default="co_ten_loai")
    is_copy: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __str__(self) -> str:
        return self.name


class Register(Model):
    """A register (sổ) of one agency, one year, one kind; per type when the agency numbers per type.

    ``next_number`` is the counter numbers are drawn from, under a row lock (see numbering.py).
    """

    __tablename__ = "register"
    __table_args__ = (UniqueConstraint("agency_id", "kind", "year", "type_scope", name="uq_register_scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    doc_type_id: Mapped[int | None] = mapped_column(ForeignKey("document_type.id"))
    # ALL_TYPES or the type code: NULLs are distinct in unique constraints, so the key is never NULL.
    type_scope: Mapped[str] = mapped_column(String(32), nullable=False, default=ALL_TYPES)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    next_number: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)


document_coordinating_department = Table(
    "document_coordinating_department",
    Model.metadata,
    Column("document_id", ForeignKey("document.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id"), primary_key=True),
)


class Document(Model):
    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("agency_id", "register_id", "number", name="uq_document_register_number"),
        Index("ix_document_listing", "agency_id", "direction", "year", "status", "id"),
        Index("ix_document_register_order", "register_id", "number"),
        Index("ix_document_duplicate", "agency_id", "direction", "notation_key", "issue_date"),
        Index("ix_document_source", "source_document_id"),
        Index("ix_document_lead_department", "lead_department_id"),
        Index("ix_document_exchange_id", "exchange_document_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False)
    direction: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    # The register year (year of receipt for incoming, of issue for outgoing); None while unnumbered.
    year: Mapped[int | None] = mapped_column(Integer)
    register_id: Mapped[int | None] = mapped_column(ForeignKey("register.id"))
    number: Mapped[int | None] = mapped_column(Integer)  # số đi / số đến (ArrivalNumber for incoming)
    doc_type_id: Mapped[int | None] = mapped_column(ForeignKey("document_type.id"))

    # What the document itself says (CodeNumber/CodeNotation). Outgoing: built at issue; incoming: typed.
    notation: Mapped[str | None] = mapped_column(String(60))  # "QĐ-STTTT"
    number_notation: Mapped[str | None] = mapped_column(String(80))  # "15/QĐ-STTTT"
    # notation_key(number_notation), kept by the validator below: duplicates compare on it on every database.
    notation_key: Mapped[str | None] = mapped_column(String(80))
    issuer_name: Mapped[str | None] = mapped_column(String(255))  # OrganName, as on the document's date
    issuer_org_id: Mapped[str | None] = mapped_column(String(32))  # OrganId (mã định danh) or agency code
    issue_date: Mapped[dt.date | None] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    body: Mapped[str | None] = mapped_column(Text)
    signer_name: Mapped[str | None] = mapped_column(String(120))
    signer_position: Mapped[str | None] = mapped_column(String(120))
    signer_user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    pages: Mapped[int | None] = mapped_column(Integer)
    copies: Mapped[int | None] = mapped_column(Integer)
    urgency: Mapped[str] = mapped_column(String(16), nullable=False, default="thuong")
    confidentiality: Mapped[str] = mapped_column(String(16), nullable=False, default="thuong")
    recipients: Mapped[str | None] = mapped_column(Text)  # ToPlaces, free text
    recipient_agency_codes: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    drafting_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    note: Mapped[str | None] = mapped_column(Text)

    # Incoming only.
    arrival_date: Mapped[dt.date | None] = mapped_column(Date)
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # true receipt time
    registered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # when typed in
    back_entered: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    channel: Mapped[str | None] = mapped_column(String(16))
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))

    source_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    # The edXML DocumentId ("<OrganId>,<YYYY/MM/DD>,<number>/<notation>"): given at delivery to an issued
    # document, carried by every copy received over the axis (app/liaison).
    exchange_document_id: Mapped[str | None] = mapped_column(String(160))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    issued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    # Worst verification verdict over the document's signed files (valid, untrusted, modified, expired…).
    signature_status: Mapped[str | None] = mapped_column(String(16))
    signature_label: Mapped[str | None] = mapped_column(String(255))
    signature_checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # When the first digitally signed file (attachment kind "signed") was attached; set by _mark_signed below,
    # so statistics count signed documents from this row (and its index) without reading the attachments.
    signed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    # The chain (documents/chain.py): who approved, and why a clerk registered a copy whose signature
    # did not verify; a recall freezes the issuer's document and withdraws every copy.
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    signature_override_reason: Mapped[str | None] = mapped_column(Text)
    returned_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    returned_reason: Mapped[str | None] = mapped_column(Text)
    recalled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    recalled_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    recall_reason: Mapped[str | None] = mapped_column(Text)

    # fold() of every field and of the text extracted from the PDFs: diacritic-free search.
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    doc_type: Mapped[DocumentType | None] = relationship()
    register: Mapped[Register | None] = relationship()
    coordinating_departments: Mapped[list[Any]] = relationship(
        "Department", secondary=document_coordinating_department, order_by="Department.id"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="document", order_by="Attachment.id", cascade="all, delete-orphan"
    )

    @validates("number_notation")
    def _keep_notation_key(self, _key: str, value: str | None) -> str | None:
        self.notation_key = notation_key(value) or None
        return value


class Attachment(Model):
    """A file of a document. The bytes live in storage (content-addressed by sha256), never in the DB."""

    __tablename__ = "attachment"
    __table_args__ = (
        Index("ix_attachment_document", "document_id", "kind"),
        Index("ix_attachment_storage_key", "storage_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(120), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(255), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="original")
    page_count: Mapped[int | None] = mapped_column(Integer)
    text_content: Mapped[str | None] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    verification_status: Mapped[str | None] = mapped_column(String(16))
    verification_label: Mapped[str | None] = mapped_column(String(255))
    verification_detail: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonType)
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Rendered PDFs: where the signer's image goes, [page, x1, y1, x2, y2] in pt (from app.render).
    signature_box: Mapped[list[float] | None] = mapped_column(JsonType)

    document: Mapped[Document] = relationship(back_populates="attachments")


class Blob(Model):
    """File bytes kept in the database when ``QLVB_STORAGE=database``: one row per distinct content.

    Written in the session of the row that names it, so both commit or neither does. ``touched_at`` is set again
    each time a new row reuses the content: the sweep only removes blobs untouched for its grace period.
    """

    __tablename__ = "blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    chunk_size: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    touched_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)


class BlobChunk(Model):
    """A slice of a blob (``chunk_size`` bytes, the last one shorter): bounded memory for reads and ranges."""

    __tablename__ = "blob_chunk"

    sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class DocumentRevision(Model):
    """The draft as submitted, each time (Phụ lục VI III.5.a): text fields and the files it had."""

    __tablename__ = "document_revision"
    __table_args__ = (UniqueConstraint("document_id", "number", name="uq_document_revision_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # submitted | resubmitted
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    doc_type_code: Mapped[str | None] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    body: Mapped[str | None] = mapped_column(Text)
    recipients: Mapped[str | None] = mapped_column(Text)
    recipient_agency_codes: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
    signer_name: Mapped[str | None] = mapped_column(String(120))
    signer_position: Mapped[str | None] = mapped_column(String(120))
    urgency: Mapped[str | None] = mapped_column(String(16))
    attachment_ids: Mapped[list[int]] = mapped_column(JsonType, nullable=False, default=list)
    new_attachment_ids: Mapped[list[int]] = mapped_column(JsonType, nullable=False, default=list)
    comment: Mapped[str | None] = mapped_column(Text)


class Delivery(Model):
    """One recipient of an issued document and its latest status as the sender sees it."""

    __tablename__ = "delivery"
    __table_args__ = (
        Index("ix_delivery_document", "document_id"),
        Index("ix_delivery_incoming", "incoming_document_id"),
        Index("ix_delivery_recipient_org", "document_id", "recipient_org_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), nullable=False)
    recipient_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    recipient_code: Mapped[str] = mapped_column(String(64), nullable=False)
    recipient_name: Mapped[str] = mapped_column(String(255), nullable=False)
    recipient_org_id: Mapped[str | None] = mapped_column(String(32))  # mã định danh the statuses come from
    incoming_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    status_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)


class DeliveryEvent(Model):
    __tablename__ = "delivery_event"
    __table_args__ = (Index("ix_delivery_event_delivery", "delivery_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id", ondelete="CASCADE"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, nullable=False)
    actor_name: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)


@event.listens_for(Document.attachments, "append")
def _mark_signed(doc: Document, attachment: Attachment, _initiator: Any) -> None:
    """A document carries a signed file from the first one attached, whichever service attached it."""
    if attachment.kind == "signed" and doc.signed_at is None:
        doc.signed_at = attachment.created_at or clock.now()
