"""Document types are seeded idempotently by `flask qlvb init`."""

from __future__ import annotations

from sqlalchemy import func, select

from app.documents.doctypes import document_type, list_document_types, seed_document_types
from app.documents.models import DocumentType
from app.extensions import db


def test_types_are_seeded_once_and_reseeding_changes_nothing(app) -> None:
    before = db.session.scalar(select(func.count()).select_from(DocumentType))
    assert before == 32
    assert seed_document_types() == 0
    assert db.session.scalar(select(func.count()).select_from(DocumentType)) == before
    assert len(list_document_types()) == 29
    assert len(list_document_types(include_copies=True)) == 32
    assert document_type("quy_dinh").abbreviation == "QyĐ"
    assert document_type("cong_van").abbreviation is None
