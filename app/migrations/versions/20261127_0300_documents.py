"""documents: document types, registers, documents (incoming/outgoing), attachments

Revision ID: 20261127_0300_documents
Revises: 20261127_0200_workflow
Create Date: 2026-11-27 03:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '20261127_0300_documents'
down_revision = '20261127_0200_workflow'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    op.create_table('document_type',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('abbreviation', sa.String(length=16), nullable=True),
    sa.Column('layout', sa.String(length=32), nullable=False),
    sa.Column('is_copy', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('register',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('doc_type_id', sa.Integer(), nullable=True),
    sa.Column('type_scope', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('next_number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.ForeignKeyConstraint(['doc_type_id'], ['document_type.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agency_id', 'kind', 'year', 'type_scope', name='uq_register_scope')
    )
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('register_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('doc_type_id', sa.Integer(), nullable=True),
    sa.Column('notation', sa.String(length=60), nullable=True),
    sa.Column('number_notation', sa.String(length=80), nullable=True),
    sa.Column('issuer_name', sa.String(length=255), nullable=True),
    sa.Column('issuer_org_id', sa.String(length=32), nullable=True),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('signer_name', sa.String(length=120), nullable=True),
    sa.Column('signer_position', sa.String(length=120), nullable=True),
    sa.Column('signer_user_id', sa.Integer(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('copies', sa.Integer(), nullable=True),
    sa.Column('urgency', sa.String(length=16), nullable=False),
    sa.Column('confidentiality', sa.String(length=16), nullable=False),
    sa.Column('recipients', sa.Text(), nullable=True),
    sa.Column('recipient_agency_codes', JSON, nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('drafting_department_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('arrival_date', sa.Date(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('back_entered', sa.Boolean(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('lead_department_id', sa.Integer(), nullable=True),
    sa.Column('source_document_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signature_status', sa.String(length=16), nullable=True),
    sa.Column('signature_label', sa.String(length=255), nullable=True),
    sa.Column('signature_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['doc_type_id'], ['document_type.id'], ),
    sa.ForeignKeyConstraint(['drafting_department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['lead_department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['register_id'], ['register.id'], ),
    sa.ForeignKeyConstraint(['signer_user_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['source_document_id'], ['document.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agency_id', 'register_id', 'number', name='uq_document_register_number')
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index('ix_document_duplicate', ['agency_id', 'direction', 'number_notation', 'issue_date'], unique=False)
        batch_op.create_index('ix_document_lead_department', ['lead_department_id'], unique=False)
        batch_op.create_index('ix_document_listing', ['agency_id', 'direction', 'year', 'status', 'id'], unique=False)
        batch_op.create_index('ix_document_register_order', ['register_id', 'number'], unique=False)
        batch_op.create_index('ix_document_source', ['source_document_id'], unique=False)

    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=True),
    sa.Column('text_content', sa.Text(), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verification_status', sa.String(length=16), nullable=True),
    sa.Column('verification_label', sa.String(length=255), nullable=True),
    sa.Column('verification_detail', JSON, nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signature_box', JSON, nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index('ix_attachment_document', ['document_id', 'kind'], unique=False)
        batch_op.create_index('ix_attachment_storage_key', ['storage_key'], unique=False)

    op.create_table('document_coordinating_department',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', 'department_id')
    )


def downgrade():
    op.drop_table('document_coordinating_department')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_attachment_storage_key')
        batch_op.drop_index('ix_attachment_document')

    op.drop_table('attachment')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index('ix_document_source')
        batch_op.drop_index('ix_document_register_order')
        batch_op.drop_index('ix_document_listing')
        batch_op.drop_index('ix_document_lead_department')
        batch_op.drop_index('ix_document_duplicate')

    op.drop_table('document')
    op.drop_table('register')
    op.drop_table('document_type')
