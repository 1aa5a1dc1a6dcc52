"""search, stats, dossiers: full-text index of documents, saved searches, work dossiers, statistics indexes

PostgreSQL: a stored tsvector generated from document.search_text through an immutable unaccent wrapper, its
lexemes prefixed with the agency id ("20xcong"): posting lists are per agency, so a common syllable costs one
agency's documents, not the province's, and one agency's query cannot match another's rows.
SQLite: an external-content FTS5 table kept in sync by triggers (unicode61, remove_diacritics 2).

Revision ID: 20261127_0700_search_stats
Revises: 20261127_0300_documents
Create Date: 2026-11-27 07:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "20261127_0700_search_stats"
down_revision = "20261127_0300_documents"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)

PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    # unaccent() is only STABLE (it reads a dictionary by name); naming the dictionary makes this IMMUTABLE.
    """CREATE OR REPLACE FUNCTION qlvb_fold(text) RETURNS text
       LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
       AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$""",
    # Tokens are runs of [a-z0-9], exactly as app.search.criteria tokenises a query, each prefixed "<agency>x".
    """CREATE OR REPLACE FUNCTION qlvb_search_vector(integer, text) RETURNS tsvector
       LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
       AS $$ SELECT to_tsvector('simple'::regconfig, regexp_replace(
                regexp_replace(public.qlvb_fold($2), '[^a-z0-9]+', ' ', 'g'), '([a-z0-9]+)', $1 || 'x\\1', 'g')) $$""",
    """ALTER TABLE document ADD COLUMN search_tsv tsvector
       GENERATED ALWAYS AS (qlvb_search_vector(agency_id, search_text)) STORED""",
    "CREATE INDEX ix_document_search ON document USING gin (search_tsv)",
    # Past RELEVANCE_LIMIT matches the newest come first: walked in this order, no sort of all matches.
    "CREATE INDEX ix_document_agency_date ON document (agency_id, issue_date DESC NULLS LAST, id DESC)",
]
PG_DOWN = [
    "DROP INDEX IF EXISTS ix_document_agency_date",
    "DROP INDEX IF EXISTS ix_document_search",
    "ALTER TABLE document DROP COLUMN IF EXISTS search_tsv",
    "DROP FUNCTION IF EXISTS qlvb_search_vector(integer, text)",
    "DROP FUNCTION IF EXISTS qlvb_fold(text)",
]
SQLITE_UP = [
    """CREATE VIRTUAL TABLE document_fts USING fts5(
         search_text, content='document', content_rowid='id', tokenize="unicode61 remove_diacritics 2")""",
    """CREATE TRIGGER document_fts_ai AFTER INSERT ON document BEGIN
         INSERT INTO document_fts(rowid, search_text) VALUES (new.id, new.search_text);
       END""",
    """CREATE TRIGGER document_fts_ad AFTER DELETE ON document BEGIN
         INSERT INTO document_fts(document_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
       END""",
    """CREATE TRIGGER document_fts_au AFTER UPDATE OF search_text ON document BEGIN
         INSERT INTO document_fts(document_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
         INSERT INTO document_fts(rowid, search_text) VALUES (new.id, new.search_text);
       END""",
    "INSERT INTO document_fts(document_fts) VALUES ('rebuild')",
    "CREATE INDEX ix_document_agency_date ON document (agency_id, issue_date DESC, id DESC)",
]
SQLITE_DOWN = [
    "DROP INDEX IF EXISTS ix_document_agency_date",
    "DROP TRIGGER IF EXISTS document_fts_au",
    "DROP TRIGGER IF EXISTS document_fts_ad",
    "DROP TRIGGER IF EXISTS document_fts_ai",
    "DROP TABLE IF EXISTS document_fts",
]


def _dialect():
    return op.get_bind().dialect.name


def upgrade():
    op.create_table(
        "saved_search",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "agency_id", "name", name="uq_saved_search_name"),
    )
    op.create_index("ix_saved_search_user_id", "saved_search", ["user_id"])

    op.create_table(
        "dossier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("retention", sa.String(length=16), nullable=False),
        sa.Column("access", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=50), nullable=False),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("department.id"), nullable=True),
        sa.Column("responsible_staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("deposited_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agency_id", "year", "code", name="uq_dossier_code"),
    )
    op.create_index("ix_dossier_listing", "dossier", ["agency_id", "year", "status"])
    op.create_index("ix_dossier_deposit", "dossier", ["status", "closed_on"])
    op.create_index("ix_dossier_responsible_staff_id", "dossier", ["responsible_staff_id"])

    op.create_table(
        "dossier_document",
        sa.Column("dossier_id", sa.Integer(), sa.ForeignKey("dossier.id", ondelete="CASCADE"), nullable=False),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("document.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filed_at", TS, nullable=False),
        sa.Column("filed_by_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.PrimaryKeyConstraint("dossier_id", "document_id"),
    )
    op.create_index("ix_dossier_document_document", "dossier_document", ["document_id"])

    _stats_indexes_up()
    for statement in PG_UP if _dialect() == "postgresql" else SQLITE_UP if _dialect() == "sqlite" else []:
        op.execute(statement)


def downgrade():
    for statement in PG_DOWN if _dialect() == "postgresql" else SQLITE_DOWN if _dialect() == "sqlite" else []:
        op.execute(statement)
    _stats_indexes_down()
    op.drop_table("dossier_document")
    op.drop_table("dossier")
    op.drop_index("ix_saved_search_user_id", table_name="saved_search")
    op.drop_table("saved_search")


# Statistics read date ranges across all agencies; these let them run as index-only range scans.
STATS_INDEXES = [
    ("ix_stats_document_arrival", "document", ["direction", "arrival_date"],
     ["agency_id", "number", "channel", "signature_status", "lead_department_id"]),
    ("ix_stats_document_issue", "document", ["direction", "issue_date"],
     ["agency_id", "id", "issued_at", "drafting_department_id", "signer_user_id"]),
    ("ix_stats_instance_started", "process_instance", ["started_at"], ["agency_id", "process_key"]),
    ("ix_stats_task_created", "human_task", ["created_at"], ["agency_id", "state", "due_at", "completed_at"]),
    # The documents domain's visibility rule asks "has this person a task on this document?" per match.
    ("ix_human_task_subject", "human_task", ["subject_id", "subject_type"], []),
]


def _stats_indexes_up():
    for name, table, cols, include in STATS_INDEXES:
        op.create_index(name, table, cols, postgresql_include=include)


def _stats_indexes_down():
    for name, table, _cols, _include in STATS_INDEXES:
        op.drop_index(name, table_name=table)
