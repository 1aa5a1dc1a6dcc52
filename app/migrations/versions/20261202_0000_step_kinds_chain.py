"""workflow step kinds; the outgoing chain (revisions, deliveries, approval, return, recall)

- ``human_task.step_kind``: what a step means to the domain (app/workflow/steps.py). Open and done tasks
  are backfilled from the form key their diagram gave them.
- Every stored diagram version gets ``qlvb:stepKind`` on its user tasks and ``qlvb:role`` on its lanes,
  read from the conventions of the versions before (the form key, the lane's name). This is the only place
  where those conventions are still known: from now on the domain follows the kind, never an id or a key.
  The rewrite adds attributes only; the content hash is recomputed so caches see the new text.
- ``document``: who approved, a registration despite an invalid signature, a return and a recall.
- ``document_revision``, ``delivery``, ``delivery_event``; ``agency.issues_on_paper``.
- An agency signature was stored as kind "signed" with the name "…-ky-co-quan.pdf": it becomes "sealed".

Revision ID: 20261202_0000_step_kinds_chain
Revises: 20261127_1100_document_signed_at
Create Date: 2026-12-02 00:00:00

"""
import hashlib
import re

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "20261202_0000_step_kinds_chain"
down_revision = "20261127_1100_document_signed_at"
branch_labels = None
depends_on = None

QLVB_NS = "https://qlvb.vinhphuc.gov.vn/schema/bpmn/1.0"
# The form keys of the diagrams published before step kinds, and the kind each stood for.
LEGACY_KINDS = {
    "incoming_register": "register", "incoming_assign": "assign", "incoming_assign_specialist": "assign_person",
    "incoming_process": "process", "incoming_confirm": "confirm", "legal_review": "review",
    "outgoing_draft": "draft", "outgoing_review": "review", "outgoing_approve": "sign", "outgoing_issue": "issue",
    "task_assign": "assign_task", "task_report": "report", "task_extension_decision": "extension_decision",
    "task_evaluate": "evaluate", "opinion_request": "request", "opinion_answer": "answer",
    "opinion_consolidate": "consolidate",
}
ROLE_CODES = ("leader", "head", "specialist", "clerk", "legal")


def _json():
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _with_kinds(xml: str) -> str:
    if "qlvb:stepKind" in xml:
        return xml
    out = xml
    if f'xmlns:qlvb="{QLVB_NS}"' not in out:
        out = re.sub(r"<((?:\w+:)?definitions)\b", rf'<\1 xmlns:qlvb="{QLVB_NS}"', out, count=1)

    def task(m: re.Match) -> str:
        block = m.group(0)
        key = re.search(r'name="formKey"\s+value="([^"]+)"', block)
        kind = LEGACY_KINDS.get(key.group(1), "task") if key else "task"
        head = re.match(r"<((?:\w+:)?userTask)\b([^>]*?)(/?)>", block)
        return block.replace(head.group(0), f'<{head.group(1)}{head.group(2)} qlvb:stepKind="{kind}"{head.group(3)}>', 1)

    out = re.sub(r"<(?:\w+:)?userTask\b[^>]*/>|<((?:\w+:)?userTask)\b[^>]*>.*?</\1>", task, out, flags=re.S)

    def lane(m: re.Match) -> str:
        tag, attrs = m.group(1), m.group(2)
        name = re.search(r'\bname="([^"]*)"', attrs)
        if name is None or name.group(1).strip() not in ROLE_CODES or "qlvb:role" in attrs:
            return m.group(0)
        return f'<{tag}{attrs} qlvb:role="{name.group(1).strip()}">'

    return re.sub(r"<((?:\w+:)?lane)\b([^>]*)>", lane, out)


def _add_user_reference(name: str) -> None:
    """A nullable document column referencing ab_user, without rebuilding the table on SQLite."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE document ADD COLUMN {name} INTEGER REFERENCES ab_user (id)")
    else:
        op.add_column("document", sa.Column(name, sa.Integer(), nullable=True))
        op.create_foreign_key(f"fk_document_{name}_ab_user", "document", "ab_user", [name], ["id"])


def upgrade():
    op.add_column("human_task", sa.Column("step_kind", sa.String(length=32), nullable=True))
    human_task = sa.table("human_task", sa.column("form_key", sa.String), sa.column("step_kind", sa.String))
    for key, kind in LEGACY_KINDS.items():
        op.execute(human_task.update().where(human_task.c.form_key == key).values(step_kind=kind))

    conn = op.get_bind()
    version = sa.table("process_version", sa.column("id", sa.Integer), sa.column("bpmn_xml", sa.Text),
                       sa.column("sha256", sa.String))
    for row in conn.execute(sa.select(version.c.id, version.c.bpmn_xml)).fetchall():
        xml = _with_kinds(row.bpmn_xml)
        if xml != row.bpmn_xml:
            conn.execute(version.update().where(version.c.id == row.id).values(
                bpmn_xml=xml, sha256=hashlib.sha256(xml.encode("utf-8")).hexdigest()))

    # Plain ADD COLUMN: on SQLite a batch (copy-and-move) rebuild of "document" would drop the triggers
    # that keep its full-text index (migration 0700) in step.
    op.add_column("agency", sa.Column("issues_on_paper", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("document", sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
    _add_user_reference("approved_by_id")
    op.add_column("document", sa.Column("signature_override_reason", sa.Text(), nullable=True))
    op.add_column("document", sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("document", sa.Column("returned_reason", sa.Text(), nullable=True))
    op.add_column("document", sa.Column("recalled_at", sa.DateTime(timezone=True), nullable=True))
    _add_user_reference("recalled_by_id")
    op.add_column("document", sa.Column("recall_reason", sa.Text(), nullable=True))

    op.create_table(
        "document_revision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("document.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_user_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("doc_type_code", sa.String(length=32), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("recipients", sa.Text(), nullable=True),
        sa.Column("recipient_agency_codes", _json(), nullable=False),
        sa.Column("signer_name", sa.String(length=120), nullable=True),
        sa.Column("signer_position", sa.String(length=120), nullable=True),
        sa.Column("urgency", sa.String(length=16), nullable=True),
        sa.Column("attachment_ids", _json(), nullable=False),
        sa.Column("new_attachment_ids", _json(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.UniqueConstraint("document_id", "number", name="uq_document_revision_number"),
    )
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("document.id", ondelete="CASCADE"), nullable=False),
        sa.Column("recipient_agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=True),
        sa.Column("recipient_code", sa.String(length=64), nullable=False),
        sa.Column("recipient_name", sa.String(length=255), nullable=False),
        sa.Column("incoming_document_id", sa.Integer(), sa.ForeignKey("document.id"), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_delivery_document", "delivery", ["document_id"])
    op.create_index("ix_delivery_incoming", "delivery", ["incoming_document_id"])
    op.create_table(
        "delivery_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("delivery_id", sa.Integer(), sa.ForeignKey("delivery.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_name", sa.String(length=255), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_delivery_event_delivery", "delivery_event", ["delivery_id", "at"])
    attachment = sa.table("attachment", sa.column("kind", sa.String), sa.column("filename", sa.String))
    op.execute(attachment.update().where(attachment.c.kind == "signed",
                                         attachment.c.filename.like("%-ky-co-quan.pdf")).values(kind="sealed"))


def downgrade():
    op.drop_index("ix_delivery_event_delivery", table_name="delivery_event")
    op.drop_table("delivery_event")
    op.drop_index("ix_delivery_incoming", table_name="delivery")
    op.drop_index("ix_delivery_document", table_name="delivery")
    op.drop_table("delivery")
    op.drop_table("document_revision")
    for name in ("recall_reason", "recalled_by_id", "recalled_at", "returned_reason", "returned_at",
                 "signature_override_reason", "approved_by_id", "approved_at"):
        op.drop_column("document", name)
    op.drop_column("agency", "issues_on_paper")
    op.drop_column("human_task", "step_kind")
