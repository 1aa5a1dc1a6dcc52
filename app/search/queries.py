"""Read-only search: one query per page of results, scoped to the agency and to what the actor may see.

PostgreSQL matches ``document.search_tsv`` (generated from ``search_text`` in migration 0700, GIN-indexed
with agency_id); SQLite matches the FTS5 table ``document_fts`` kept in sync by triggers.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, column, func, literal_column, or_, select, table

from app.documents import queries as documents_queries
from app.documents.models import Document, DocumentType, Register
from app.extensions import db
from app.workflow.info import ActorRef

from .criteria import MAX_PAGE, ParsedQuery, SearchCriteria
from .highlight import highlight
from .models import SavedSearch

_FTS = table("document_fts", column("rowid"), column("rank"))
_TSV = literal_column("document.search_tsv")
_SIMPLE = literal_column("'simple'::regconfig")
# Counting and ranking read every match: past this many, "more than" and newest first.
COUNT_LIMIT = 500


@dataclass(frozen=True)
class SearchHitInfo:
    id: int
    direction: str
    status: str
    number: int | None
    number_notation: str | None
    type_name: str | None
    issue_date: dt.date | None
    arrival_date: dt.date | None
    issuer_name: str | None
    summary: str
    summary_marked: tuple[tuple[str, bool], ...]
    notation_marked: tuple[tuple[str, bool], ...]
    matched_elsewhere: bool


@dataclass(frozen=True)
class SearchPageResult:
    criteria: SearchCriteria
    hits: tuple[SearchHitInfo, ...]
    total: int
    page: int
    pages: int
    elapsed_ms: float
    sorted_by: str = "relevance"
    total_capped: bool = False  # "more than COUNT_LIMIT"

    @property
    def relevance_capped(self) -> bool:
        """Relevance was asked for but there were too many matches to rank (the page says so)."""
        return self.criteria.effective_sort == "relevance" and self.sorted_by != "relevance"


@dataclass(frozen=True)
class SavedSearchInfo:
    id: int
    name: str
    params: dict[str, str]
    created_at: dt.datetime


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def restrict_to_visible(stmt: Select[Any], actor: ActorRef) -> Select[Any]:
    """Keep what the actor may see: the documents domain's own rule (agency, role, involvement), not a copy.

    Classified documents (độ mật) are never registered here (app.documents.refusals); should one exist, neither
    the results nor their exports show it."""
    return documents_queries._visible(stmt, actor.agency_id, actor).where(Document.confidentiality == "thuong")


def _filters(criteria: SearchCriteria) -> list[Any]:
    c = criteria
    clauses: list[Any] = []
    if c.direction:
        clauses.append(Document.direction == c.direction)
    if c.doc_type_id:
        clauses.append(Document.doc_type_id == c.doc_type_id)
    if c.register_id:
        clauses.append(Document.register_id == c.register_id)
    if c.status:
        clauses.append(Document.status == c.status)
    if c.issuer:
        clauses.append(Document.issuer_name == c.issuer)
    if c.department_id:
        clauses.append(or_(Document.lead_department_id == c.department_id,
                           Document.drafting_department_id == c.department_id))
    if c.date_from:
        clauses.append(Document.issue_date >= c.date_from)
    if c.date_to:
        clauses.append(Document.issue_date <= c.date_to)
    return clauses


def _matching(stmt: Select[Any], parsed: ParsedQuery, agency_id: int, dialect: str) -> tuple[Select[Any], Any]:
    """Add the full-text condition; return the statement and a relevance score (higher is better)."""
    if dialect == "postgresql":
        tsquery = func.to_tsquery(_SIMPLE, parsed.pg_tsquery(prefix=f"{agency_id}x"))
        # Normalisation 32 (rank/(rank+1)) keeps scores comparable; cover density favours words close together.
        return stmt.where(_TSV.op("@@")(tsquery)), func.ts_rank_cd(_TSV, tsquery, 32)
    # FTS5 matches on the hidden column named like the table; bm25 "rank" is lower for better matches.
    stmt = stmt.join(_FTS, _FTS.c.rowid == Document.id).where(
        literal_column("document_fts").op("MATCH")(parsed.fts5_query())
    )
    return stmt, -_FTS.c.rank


def _order(sort: str) -> list[Any]:
    if sort == "date_asc":
        return [Document.issue_date.asc().nulls_last(), Document.id.asc()]
    if sort == "number":
        return [Document.year.desc().nulls_last(), Document.number.desc().nulls_last(), Document.id.desc()]
    return [Document.issue_date.desc().nulls_last(), Document.id.desc()]


def _python_key(sort: str) -> Any:
    """The same orders as _order(), over the rows of the first pass (NULLs last, ties by id)."""
    far = dt.date.max
    if sort == "relevance":
        return lambda r: (-(r.score or 0), -r.id)
    if sort == "date_asc":
        return lambda r: (r.issue_date is None, r.issue_date or far, r.id)
    if sort == "number":
        return lambda r: (r.year is None, -(r.year or 0), r.number is None, -(r.number or 0), -r.id)
    return lambda r: (r.issue_date is None, -(r.issue_date or far).toordinal(), -r.id)


def matching_query(agency_id: int, criteria: SearchCriteria, *, dialect: str | None = None) -> Select[Any]:
    """id, sort keys and relevance of the documents of one agency matching ``criteria`` (bench uses it too)."""
    dialect = dialect or _dialect()
    stmt = select(Document.id, Document.issue_date, Document.year, Document.number).where(
        Document.agency_id == agency_id, *_filters(criteria))
    if criteria.parsed:
        stmt, score = _matching(stmt, criteria.parsed, agency_id, dialect)
        return stmt.add_columns(score.label("score"))
    return stmt.add_columns(literal_column("0").label("score"))


def page_of_ids(stmt: Select[Any], criteria: SearchCriteria) -> tuple[list[int], int, bool, str]:
    """(ids of the page, total, total_capped, sort used) with one bounded pass over the matches.

    Ranking and counting read every match, so both stop at COUNT_LIMIT: up to that many matches are read
    once and ordered here; beyond it the total shows as "more than", relevance gives way to newest first and
    the page comes from an index walked in date order.
    """
    rows = db.session.execute(stmt.limit(COUNT_LIMIT + 1)).all()
    start = (criteria.page - 1) * criteria.per_page
    if len(rows) <= COUNT_LIMIT:
        sort = criteria.effective_sort
        rows.sort(key=_python_key(sort))
        return [r.id for r in rows[start:start + criteria.per_page]], len(rows), False, sort
    sort = "date_desc" if criteria.effective_sort == "relevance" else criteria.effective_sort
    ids = db.session.scalars(stmt.with_only_columns(Document.id).order_by(*_order(sort))
                             .limit(criteria.per_page).offset(start))
    return list(ids), COUNT_LIMIT, True, sort


def all_matching_ids(stmt: Select[Any], criteria: SearchCriteria, *, limit: int) -> list[int] | None:
    """Every id the pages of this search would show, in their order; None when there are more than ``limit``.

    The same orders as page_of_ids: relevance up to COUNT_LIMIT matches, newest first beyond it."""
    rows = db.session.execute(stmt.limit(limit + 1)).all()
    if len(rows) > limit:
        return None
    sort = criteria.effective_sort
    if len(rows) > COUNT_LIMIT and sort == "relevance":
        sort = "date_desc"
    rows.sort(key=_python_key(sort))
    return [r.id for r in rows]


def search_documents(actor: ActorRef, criteria: SearchCriteria) -> SearchPageResult:
    """One page of the documents ``actor`` may see that match ``criteria``, with the words marked."""
    started = time.perf_counter()
    stmt = restrict_to_visible(matching_query(actor.agency_id, criteria), actor)
    ids, total, capped, sort = page_of_ids(stmt, criteria)
    pages = max(1, -(-total // criteria.per_page)) if not capped else MAX_PAGE
    hits = _hits(ids, criteria.parsed)
    elapsed = (time.perf_counter() - started) * 1000
    return SearchPageResult(criteria, hits, total, min(criteria.page, pages), pages, round(elapsed, 1), sort,
                            capped)


def _hits(ids: list[int], parsed: ParsedQuery) -> tuple[SearchHitInfo, ...]:
    if not ids:
        return ()
    rows = db.session.execute(
        select(Document.id, Document.direction, Document.status, Document.number, Document.number_notation,
               DocumentType.name, Document.issue_date, Document.arrival_date, Document.issuer_name,
               Document.summary)
        .outerjoin(DocumentType, DocumentType.id == Document.doc_type_id)
        .where(Document.id.in_(ids))
    ).all()
    by_id = {r[0]: r for r in rows}
    hits = []
    for doc_id in ids:
        r = by_id[doc_id]
        summary_marked = tuple(highlight(r.summary or "", parsed))
        notation_marked = tuple(highlight(r.number_notation or "", parsed))
        in_view = any(m for _, m in summary_marked) or any(m for _, m in notation_marked)
        hits.append(SearchHitInfo(
            id=r.id, direction=r.direction, status=r.status, number=r.number, number_notation=r.number_notation,
            type_name=r.name, issue_date=r.issue_date, arrival_date=r.arrival_date, issuer_name=r.issuer_name,
            summary=r.summary or "", summary_marked=summary_marked, notation_marked=notation_marked,
            matched_elsewhere=bool(parsed) and not in_view,
        ))
    return tuple(hits)


@dataclass(frozen=True)
class FilterChoicesInfo:
    types: tuple[tuple[int, str], ...]
    registers: tuple[tuple[int, str], ...]
    issuers: tuple[str, ...]


def filter_choices(agency_id: int) -> FilterChoicesInfo:
    """What the filter drop-downs offer: types, this agency's registers, issuers seen by this agency."""
    types = db.session.execute(
        select(DocumentType.id, DocumentType.name).where(DocumentType.active.is_(True))
        .order_by(DocumentType.sort_order, DocumentType.name)
    ).all()
    registers = db.session.execute(
        select(Register.id, Register.name, Register.year).where(Register.agency_id == agency_id)
        .order_by(Register.year.desc(), Register.kind, Register.name)
    ).all()
    issuers = db.session.scalars(
        select(Document.issuer_name)
        .where(Document.agency_id == agency_id, Document.direction == "incoming",
               and_(Document.issuer_name.is_not(None), Document.issuer_name != ""))
        .group_by(Document.issuer_name).order_by(Document.issuer_name).limit(300)
    ).all()
    return FilterChoicesInfo(
        types=tuple((t.id, t.name) for t in types),
        registers=tuple((r.id, r.name if str(r.year) in r.name else f"{r.name} ({r.year})") for r in registers),
        issuers=tuple(issuers),
    )


def saved_searches(actor: ActorRef) -> list[SavedSearchInfo]:
    rows = db.session.scalars(
        select(SavedSearch).where(SavedSearch.user_id == actor.user_id, SavedSearch.agency_id == actor.agency_id)
        .order_by(SavedSearch.name)
    )
    return [SavedSearchInfo(r.id, r.name, dict(r.params), r.created_at) for r in rows]
