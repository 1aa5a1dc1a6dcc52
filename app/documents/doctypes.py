"""The document types of Decree 30 as data: data/document_types.yaml, seeded into ``document_type``."""

from __future__ import annotations

import functools
import pathlib
from dataclasses import dataclass

from ruamel.yaml import YAML
from sqlalchemy import select

from app.core.errors import NotFoundError
from app.core.text import nfc
from app.extensions import db

from .models import DocumentType

DATA_FILE = pathlib.Path(__file__).with_name("data") / "document_types.yaml"


@dataclass(frozen=True)
class DocumentTypeInfo:
    id: int
    code: str
    name: str
    abbreviation: str | None  # exact case; None for công văn and thư công
    layout: str
    is_copy: bool


@dataclass(frozen=True)
class _TypeDef:
    code: str
    name: str
    abbreviation: str | None
    layout: str
    is_copy: bool


@functools.lru_cache(maxsize=1)
def type_definitions() -> tuple[_TypeDef, ...]:
    raw = YAML(typ="safe").load(DATA_FILE.read_text(encoding="utf-8"))
    out = []
    for key, is_copy in (("types", False), ("copies", True)):
        for item in raw[key]:
            abbreviation = item.get("abbreviation")
            out.append(
                _TypeDef(
                    code=item["code"],
                    name=nfc(item["name"]),
                    abbreviation=nfc(abbreviation) if abbreviation else None,
                    layout=item.get("layout", "co_ten_loai"),
                    is_copy=is_copy,
                )
            )
    return tuple(out)


def seed_document_types() -> int:
    """Insert or update every type of the data file (idempotent); return how many rows changed."""
    existing = {t.code: t for t in db.session.scalars(select(DocumentType))}
    changed = 0
    for order, item in enumerate(type_definitions(), start=1):
        row = existing.get(item.code)
        if row is None:
            row = DocumentType(code=item.code)
            db.session.add(row)
        values = {
            "name": item.name,
            "abbreviation": item.abbreviation,
            "layout": item.layout,
            "is_copy": item.is_copy,
            "sort_order": order,
            "active": True,
        }
        if any(getattr(row, k, None) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed += 1
    db.session.flush()
    return changed


def _info(row: DocumentType) -> DocumentTypeInfo:
    return DocumentTypeInfo(row.id, row.code, row.name, row.abbreviation, row.layout, row.is_copy)


def list_document_types(*, include_copies: bool = False) -> list[DocumentTypeInfo]:
    stmt = select(DocumentType).where(DocumentType.active.is_(True)).order_by(DocumentType.sort_order)
    if not include_copies:
        stmt = stmt.where(DocumentType.is_copy.is_(False))
    return [_info(r) for r in db.session.scalars(stmt)]


def document_type(code_or_id: str | int) -> DocumentTypeInfo:
    if isinstance(code_or_id, int) or (isinstance(code_or_id, str) and code_or_id.isdigit()):
        row = db.session.get(DocumentType, int(code_or_id))
    else:
        row = db.session.scalar(select(DocumentType).where(DocumentType.code == code_or_id))
    if row is None:
        raise NotFoundError(f"Không có loại văn bản «{code_or_id}»")
    return _info(row)
