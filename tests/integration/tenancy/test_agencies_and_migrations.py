import unicodedata
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from app.extensions import db
from app.tenancy.models import Agency, Department, Staff
from app.tenancy.services import export_agencies, import_agencies

ROOT = Path(__file__).resolve().parents[3]


def test_migrations_built_the_schema_up_to_every_head(app):
    script = ScriptDirectory.from_config(_alembic_config())
    heads = set(script.get_heads())
    current = {row[0] for row in db.session.execute(text("select version_num from alembic_version"))}
    assert current == heads


# Search objects the 0700 migration writes in each dialect's own SQL, which no model can declare: the
# PostgreSQL tsvector column and its GIN index, the sort index with DESC NULLS LAST, SQLite's FTS5 tables.
RAW_SQL_OBJECTS = {"search_tsv", "ix_document_search", "ix_document_agency_date"}


def _declared_in_models(obj, name, type_, reflected, compare_to):
    return not (name in RAW_SQL_OBJECTS or (type_ == "table" and name.startswith("document_fts")))


def test_migrations_create_exactly_what_the_models_declare(app):
    """Tables, columns, indexes and constraints of the migrated database match the models (no drift either way)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _declared_in_models})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "app/migrations"))
    return cfg


def test_all_35_agencies_and_the_central_entry_are_loaded(app):
    agencies = db.session.scalars(select(Agency).where(Agency.code.not_like("itest%"))).all()
    domains = {a.domain for a in agencies}
    assert len([a for a in agencies if not a.is_central and a.code.startswith("i") and len(a.code) < 20]) >= 35
    for d in ("ibandt.vinhphuc.gov.vn", "isotttt.vinhphuc.gov.vn", "iyenlac.vinhphuc.gov.vn",
              "itruongchinhtri.vinhphuc.gov.vn", "qlvb.vinhphuc.gov.vn"):
        assert d in domains


def test_import_is_idempotent(app):
    before = db.session.scalar(select(db.func.count()).select_from(Department))
    result = import_agencies(ROOT / "agencies")
    db.session.commit()
    after = db.session.scalar(select(db.func.count()).select_from(Department))
    assert result.created == 0 and result.updated == 36
    assert before == after


def test_export_after_an_edit_writes_the_change_and_keeps_comments(app, tmp_path):
    src = (ROOT / "agencies" / "iyenlac.yaml").read_text(encoding="utf-8")
    (tmp_path / "iyenlac.yaml").write_text(src, encoding="utf-8")
    agency = db.session.scalar(select(Agency).where(Agency.code == "iyenlac"))
    dep = db.session.scalar(select(Department).where(Department.agency_id == agency.id, Department.code == "nv"))
    old_name = dep.name
    dep.name = "Phòng Nội vụ và Dân tộc"
    db.session.flush()
    try:
        written = export_agencies(tmp_path, codes=["iyenlac"])
        out = (tmp_path / "iyenlac.yaml").read_text(encoding="utf-8")
    finally:
        dep.name = old_name
        db.session.commit()
    assert written
    assert "Phòng Nội vụ và Dân tộc" in out
    assert out.startswith("# UBND huyện Yên Lạc — STT 34")
    assert "# Mã định danh (NĐ 30, Phụ lục VI)" in out


def test_decomposed_input_is_stored_nfc(app, make_agency, make_account):
    agency = make_agency()
    nfd_name = unicodedata.normalize("NFD", "Nguyễn Thị Thủy")
    acc = make_account(agency.code, ["specialist"], name=nfd_name)
    staff = db.session.get(Staff, acc.staff_id)
    db.session.refresh(staff)
    assert staff.full_name == unicodedata.normalize("NFC", "Nguyễn Thị Thủy")
    assert unicodedata.is_normalized("NFC", staff.full_name)
    dep = Department(agency_id=agency.id, code="nfd", name=unicodedata.normalize("NFD", "Phòng Hỗ trợ"))
    db.session.add(dep)
    db.session.commit()
    raw = db.session.execute(text("select name from department where id = :i"), {"i": dep.id}).scalar()
    assert raw == "Phòng Hỗ trợ" and unicodedata.is_normalized("NFC", raw)
