"""Registers and numbers (Nghị định 30/2020, Điều 15.1 and 22.2).

Numbers run from 1 on 1 January, once per register and year, in the order they are drawn, and never
repeat or skip: a number is drawn inside the caller's transaction from the register row, under a
lock that is held until that transaction ends. If the transaction rolls back, so does the counter,
so a failed registration never leaves a hole.

- PostgreSQL: ``SELECT … FOR NO KEY UPDATE`` on the register row, then increment it. Concurrent clerks
  queue on that row only (other registers and other agencies are not blocked).
- SQLite (no row locks): ``UPDATE register SET next_number = next_number + 1 … RETURNING``. The
  first write of a transaction takes SQLite's database write lock, which is held until commit, so
  the read-increment is atomic and the next writer waits (busy timeout) until this one commits.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.core import clock
from app.extensions import db
from app.tenancy.models import Agency

from .models import ALL_TYPES, DocumentType, Register

REGISTER_NAMES = {
    "incoming": "Sổ đăng ký văn bản đến",
    "outgoing": "Sổ đăng ký văn bản đi",
    "copy": "Sổ đăng ký bản sao văn bản",
}


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def register_scope(agency_id: int, kind: str, doc_type: DocumentType | None) -> tuple[str, int | None]:
    """Which series a document is numbered in: one for everything, or one per type (outgoing only).

    Incoming numbers are always one series (Điều 22.2); copies share one series (Phụ lục I, II);
    outgoing documents follow the agency's ``numbering_policy`` (Điều 15.1: the head decides).
    """
    if kind != "outgoing" or doc_type is None:
        return ALL_TYPES, None
    policy = db.session.scalar(select(Agency.numbering_policy).where(Agency.id == agency_id))
    if policy == "per_type":
        return doc_type.code, doc_type.id
    return ALL_TYPES, None


def ensure_register(agency_id: int, kind: str, year: int, doc_type: DocumentType | None = None) -> int:
    """Return the id of the register for (agency, kind, year, scope), creating it if needed.

    Two clerks opening the year's first register at once both ``INSERT … ON CONFLICT DO NOTHING``;
    one row wins and both read it back.
    """
    scope, type_id = register_scope(agency_id, kind, doc_type)
    found = _register_id(agency_id, kind, year, scope)
    if found is not None:
        return found
    name = REGISTER_NAMES[kind] + (f" – {doc_type.name}" if type_id is not None and doc_type else "") + f" năm {year}"
    values = {
        "agency_id": agency_id,
        "kind": kind,
        "year": year,
        "type_scope": scope,
        "doc_type_id": type_id,
        "name": name,
        "next_number": 1,
        "created_at": clock.now(),
    }
    insert = postgresql.insert if _dialect() == "postgresql" else sqlite.insert
    db.session.execute(insert(Register).values(**values).on_conflict_do_nothing())
    found = _register_id(agency_id, kind, year, scope)
    assert found is not None
    return found


def _register_id(agency_id: int, kind: str, year: int, scope: str) -> int | None:
    return db.session.scalar(
        select(Register.id).where(
            Register.agency_id == agency_id, Register.kind == kind, Register.year == year, Register.type_scope == scope
        )
    )


def draw_number(register_id: int) -> int:
    """Take the register's next number; the lock lasts until the caller's transaction ends."""
    if _dialect() == "postgresql":
        row = db.session.execute(
            # NO KEY UPDATE: documents referencing this register take KEY SHARE locks (FK checks);
            # a plain FOR UPDATE would conflict with those and deadlock two clerks.
            select(Register.next_number).where(Register.id == register_id).with_for_update(key_share=True)
        ).one()
        number = row.next_number
        db.session.execute(
            update(Register).where(Register.id == register_id).values(next_number=number + 1),
            execution_options={"synchronize_session": False},
        )
        return int(number)
    returned = db.session.execute(
        update(Register)
        .where(Register.id == register_id)
        .values(next_number=Register.next_number + 1)
        .returning(Register.next_number),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    return int(returned) - 1


def format_number(number: int) -> str:
    """Numbers below 10 are written with a leading zero: 05/QĐ-STTTT (Decree 30 practice)."""
    return f"{number:02d}"


def outgoing_notation(
    *, type_abbreviation: str | None, agency_abbreviation: str, unit_abbreviation: str | None
) -> str:
    """``QĐ-STTTT`` for a typed document; ``STTTT-VP`` for a công văn (agency then drafting unit).

    Abbreviations keep their exact case (QyĐ, CTr, TTr). Công văn / thư công have no type abbreviation.
    """
    if type_abbreviation:
        return f"{type_abbreviation}-{agency_abbreviation}"
    if unit_abbreviation:
        return f"{agency_abbreviation}-{unit_abbreviation}"
    return agency_abbreviation


def number_notation(number: int, notation: str) -> str:
    return f"{format_number(number)}/{notation}"
