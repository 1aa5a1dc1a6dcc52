"""Read-only questions about dossiers: the yearly list, one dossier, its contents, deposits falling due."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import exists, func, or_, select

from app.documents.models import Document, DocumentType
from app.extensions import db
from app.tenancy.models import Agency, Department, Staff
from app.workflow.info import ActorRef

from .access import can_manage, visible_clause
from .errors import DossierNotFoundError
from .info import DepositDueInfo, DossierEntryInfo, DossierInfo
from .models import ACCESS_LEVELS, RETENTIONS, STATUSES, Dossier, DossierDocument

# Decree 30 Art 30.2: dossiers are deposited in the agency archive within one year of being closed.
DEPOSIT_WITHIN_YEARS = 1
# Issue #6: the person responsible is reminded this many days before the deposit is due, then once overdue.
DEPOSIT_REMINDER_DAYS = 30


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def deposit_due_on(closed_on: dt.date | None) -> dt.date | None:
    return add_years(closed_on, DEPOSIT_WITHIN_YEARS) if closed_on else None


def last_closing_overdue(today: dt.date) -> dt.date:
    """The latest closing date whose deposit date is already past on ``today`` (exact around 29 February)."""
    day = add_years(today, -DEPOSIT_WITHIN_YEARS)
    while add_years(day, DEPOSIT_WITHIN_YEARS) >= today:
        day -= dt.timedelta(days=1)
    return day


def _totals(dossier_ids: list[int]) -> dict[int, tuple[int, int]]:
    if not dossier_ids:
        return {}
    rows = db.session.execute(
        select(DossierDocument.dossier_id, func.count(), func.coalesce(func.sum(Document.pages), 0))
        .join(Document, Document.id == DossierDocument.document_id)
        .where(DossierDocument.dossier_id.in_(dossier_ids)).group_by(DossierDocument.dossier_id)
    ).all()
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def _infos(rows: list[Any], actor: ActorRef) -> list[DossierInfo]:
    totals = _totals([r.Dossier.id for r in rows])
    out = []
    for r in rows:
        d: Dossier = r.Dossier
        docs, pages = totals.get(d.id, (0, 0))
        out.append(DossierInfo(
            id=d.id, agency_id=d.agency_id, year=d.year, code=d.code,
            file_code=f"{r.org_id or r.agency_code}.{d.year}.{d.code}", title=d.title, retention=d.retention,
            retention_label=RETENTIONS.get(d.retention, d.retention), access=d.access,
            access_label=ACCESS_LEVELS.get(d.access, d.access), language=d.language, department_id=d.department_id,
            department_name=r.department_name, responsible_staff_id=d.responsible_staff_id,
            responsible_name=r.responsible_name, status=d.status, status_label=STATUSES.get(d.status, d.status),
            opened_on=d.opened_on, closed_on=d.closed_on, deposited_on=d.deposited_on,
            deposit_due_on=deposit_due_on(d.closed_on) if d.status == "closed" else None, note=d.note,
            doc_total=docs, page_total=pages, can_manage=can_manage(d, actor, r.responsible_user_id),
        ))
    return out


def _base() -> Any:
    return (
        select(Dossier, Staff.full_name.label("responsible_name"), Staff.user_id.label("responsible_user_id"),
               Department.name.label("department_name"), Agency.org_identifier.label("org_id"),
               Agency.code.label("agency_code"))
        .join(Staff, Staff.id == Dossier.responsible_staff_id)
        .join(Agency, Agency.id == Dossier.agency_id)
        .outerjoin(Department, Department.id == Dossier.department_id)
    )


def list_dossiers(actor: ActorRef, year: int, *, status: str | None = None) -> list[DossierInfo]:
    """The dossier list (danh mục hồ sơ) of one year that the actor may see, in code order."""
    stmt = _base().where(visible_clause(actor), Dossier.year == year)
    if status:
        stmt = stmt.where(Dossier.status == status)
    rows = db.session.execute(stmt.order_by(Dossier.code, Dossier.id)).all()
    return _infos(list(rows), actor)


def dossier_years(actor: ActorRef) -> list[int]:
    return list(db.session.scalars(
        select(Dossier.year).where(visible_clause(actor)).group_by(Dossier.year).order_by(Dossier.year.desc())))


def get_dossier(actor: ActorRef, dossier_id: int) -> DossierInfo:
    """One dossier the actor may see; any other (another agency's, another person's) is simply not found."""
    row = db.session.execute(_base().where(Dossier.id == dossier_id, visible_clause(actor))).first()
    if row is None:
        raise DossierNotFoundError("Không tìm thấy hồ sơ hoặc bạn không có quyền xem hồ sơ này.")
    return _infos([row], actor)[0]


def dossier_contents(actor: ActorRef, dossier_id: int) -> list[DossierEntryInfo]:
    """The documents of a dossier in their order (mục lục văn bản)."""
    get_dossier(actor, dossier_id)
    rows = db.session.execute(
        select(DossierDocument.position, DossierDocument.filed_at, Document.id, Document.direction,
               Document.number_notation, Document.issue_date, DocumentType.name, Document.summary,
               Document.issuer_name, Document.pages, Agency.name.label("agency_name"))
        .join(Document, Document.id == DossierDocument.document_id)
        .join(Agency, Agency.id == Document.agency_id)
        .outerjoin(DocumentType, DocumentType.id == Document.doc_type_id)
        .where(DossierDocument.dossier_id == dossier_id)
        .order_by(DossierDocument.position)
    ).all()
    return [DossierEntryInfo(
        position=r.position, document_id=r.id, direction=r.direction, number_notation=r.number_notation,
        issue_date=r.issue_date, type_name=r.name, summary=r.summary,
        author=r.issuer_name if r.direction == "incoming" else r.agency_name, pages=r.pages, filed_at=r.filed_at,
    ) for r in rows]


def dossiers_for_document(actor: ActorRef, document_id: int) -> list[DossierInfo]:
    """The dossiers (that the actor may see) holding this document."""
    stmt = _base().join(DossierDocument, DossierDocument.dossier_id == Dossier.id).where(
        DossierDocument.document_id == document_id, visible_clause(actor))
    return _infos(list(db.session.execute(stmt.order_by(Dossier.year.desc(), Dossier.code)).all()), actor)


def dossiers_for_filing(actor: ActorRef) -> list[DossierInfo]:
    """Open dossiers the actor may file documents into (for the "file into a dossier" form)."""
    rows = db.session.execute(_base().where(visible_clause(actor), Dossier.status == "open")
                              .order_by(Dossier.year.desc(), Dossier.code)).all()
    return [d for d in _infos(list(rows), actor) if d.can_manage]


def filing_choices_for(actor: ActorRef, document_id: int) -> tuple[list[DossierInfo], list[DossierInfo]]:
    """``dossiers_for_filing`` and ``dossiers_for_document`` of a document page, in one query."""
    holds = exists().where(DossierDocument.dossier_id == Dossier.id, DossierDocument.document_id == document_id)
    rows = list(db.session.execute(
        _base().add_columns(holds.label("holds"))
        .where(visible_clause(actor), or_(Dossier.status == "open", holds))
        .order_by(Dossier.year.desc(), Dossier.code)).all())
    infos = _infos(rows, actor)
    filing = [d for d, r in zip(infos, rows, strict=True) if d.status == "open" and d.can_manage]
    holding = [d for d, r in zip(infos, rows, strict=True) if r.holds]
    return filing, holding


def dossiers_due_for_deposit(today: dt.date, days: int = 30, *, agency_id: int | None = None) -> list[DepositDueInfo]:
    """Closed dossiers whose deposit (closing + 1 year, Decree 30 Art 30.2) is due within ``days`` or overdue."""
    latest_closing = add_years(today + dt.timedelta(days=days), -DEPOSIT_WITHIN_YEARS)
    stmt = (select(Dossier, Staff.user_id).join(Staff, Staff.id == Dossier.responsible_staff_id)
            .where(Dossier.status == "closed", Dossier.closed_on <= latest_closing))
    if agency_id is not None:
        stmt = stmt.where(Dossier.agency_id == agency_id)
    return [deposit_due_info(d, user_id, today)
            for d, user_id in db.session.execute(stmt.order_by(Dossier.closed_on, Dossier.id)).all()]


def deposit_due_info(d: Dossier, responsible_user_id: int | None, today: dt.date) -> DepositDueInfo:
    assert d.closed_on is not None
    due = add_years(d.closed_on, DEPOSIT_WITHIN_YEARS)
    return DepositDueInfo(d.id, d.agency_id, d.code, d.title, d.closed_on, due, (due - today).days,
                          responsible_user_id)
