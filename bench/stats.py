#!/usr/bin/env python3
"""SoICT's usage dashboard (app.stats.queries.province_usage) over 1 million documents and their tasks.

Run: .venv/bin/python bench/stats.py [--documents 1000000] [--runs 7] [--keep-db NAME] [--no-drop]
DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test) names the server only: a scratch database
is created next to it (bench/corpus.py: documents, one process instance per document, 2 tasks each, signed
files) and dropped at the end. Prints the dashboard's p50/max for a year, a quarter and a month and the
agency page's (target: <= 500 ms each), the signed count against its baseline in the same run (the hash join
over every signed attachment it replaced; the two must agree), and EXPLAIN summaries of the queries.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import corpus
from sqlalchemy import func, select, text

from app.core import clock
from app.documents.models import Attachment, Document
from app.extensions import db
from app.stats import queries as stats_queries
from app.stats.periods import Period


def timed(fn: Any, runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return times, result


def explain_queries(fn: Any) -> None:
    """EXPLAIN ANALYZE of the counting statements ``fn`` sends, captured as they run."""
    from sqlalchemy import event

    statements: list[tuple[str, Any]] = []
    engine = db.engine

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "GROUP BY" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    raw = db.session.connection().connection.driver_connection
    for statement, parameters in statements:
        with raw.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters)
            lines = [r[0] for r in cur.fetchall()]
        table = next((w for w in ("human_task", "process_instance", "document") if f"FROM {w}" in statement), "?")
        print(f"  {table}: {lines[-1].strip()}")
        for line in lines:
            if any(k in line for k in ("Scan", "Join", "Aggregate")):
                print("     " + line.strip()[:150])


def signed_by_join(period: Period) -> dict[Any, tuple[int, int]]:
    """The baseline: signed outgoing counted by a hash join over every signed attachment (before signed_at).

    Run on today's indexes: ix_stats_document_issue no longer carries document ids for this join, so it also
    reads the documents' heap (with its old index it took ~330 ms of the ~480 ms year dashboard).
    """
    signed = select(Attachment.document_id).where(Attachment.kind == "signed").distinct().subquery()
    rows = db.session.execute(
        select(Document.agency_id, func.count(), func.count(signed.c.document_id))
        .select_from(Document)
        .outerjoin(signed, signed.c.document_id == Document.id)
        .where(Document.direction == "outgoing", Document.issue_date >= period.start,
               Document.issue_date < period.end, Document.issued_at.is_not(None))
        .group_by(Document.agency_id)
    ).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def signed_by_column(period: Period) -> dict[Any, tuple[int, int]]:
    """What the dashboard runs now (Document.signed_at, kept when a signed file is attached)."""
    return stats_queries._outgoing(period, (Document.agency_id,))  # the very query province_usage sends


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    corpus.add_arguments(parser)
    parser.add_argument("--runs", type=int, default=7)
    corpus.run_on_corpus(parser.parse_args(), run)


def run(args: argparse.Namespace) -> None:
    counts = db.session.execute(text(
        "SELECT (SELECT count(*) FROM document), (SELECT count(*) FROM process_instance),"
        " (SELECT count(*) FROM human_task), (SELECT count(*) FROM attachment)")).one()
    print(f"{counts[0]:,} documents, {counts[1]:,} process instances, {counts[2]:,} tasks, {counts[3]:,} files")
    clock.freeze(None)
    periods = [Period("year", 2025), Period("quarter", 2025, 2), Period("month", 2025, 10)]
    stats_queries.province_usage(periods[0])  # warm
    worst = 0.0
    for period in periods:
        times, result = timed(lambda p=period: stats_queries.province_usage(p), args.runs)
        worst = max(worst, max(times))
        total = result.total
        print(f"dashboard {period.label:>14}: p50 {statistics.median(times):6.1f} ms, max {max(times):6.1f} ms "
              f"({len(result.rows)} agencies, {total.incoming_registered:,} incoming, {total.outgoing_issued:,} "
              f"outgoing, {total.outgoing_signed:,} signed, {total.tasks.total:,} tasks, "
              f"{len(result.below_minimum)} below minimum)")
    agency_id = db.session.scalar(select(func.min(text("agency_id"))).select_from(text("document")))
    stats_queries.agency_stats(agency_id, periods[0])  # warm
    agency_times, page = timed(lambda: stats_queries.agency_stats(agency_id, periods[0]), args.runs)
    print(f"agency page (one agency, by department and person), {periods[0].label}: "
          f"p50 {statistics.median(agency_times):.1f} ms, max {max(agency_times):.1f} ms "
          f"({len(page.departments)} departments, {len(page.people)} people)")

    join_times, by_join = timed(lambda: signed_by_join(periods[0]), args.runs)
    column_times, by_column = timed(lambda: signed_by_column(periods[0]), args.runs)
    join_ms, column_ms = statistics.median(join_times), statistics.median(column_times)
    print(f"signed outgoing, {periods[0].label}: join over attachments (baseline, on today's indexes) "
          f"p50 {join_ms:.1f} ms, "
          f"signed_at column p50 {column_ms:.1f} ms: {join_ms / column_ms:.1f}x faster, "
          f"same counts: {'yes' if by_join == by_column else 'NO'}")

    page_worst = max(agency_times)
    print(f"target dashboard <= 500 ms: {'MET' if worst <= 500 else 'NOT MET'} (worst run {worst:.0f} ms); "
          f"agency page <= 500 ms: {'MET' if page_worst <= 500 else 'NOT MET'} (worst run {page_worst:.0f} ms)")
    if by_join != by_column:
        print("signed counts DIFFER between signed_at and the attachments: the corpus or the app is wrong")
    print(f"\nEXPLAIN (ANALYZE) of the dashboard's queries, {periods[0].label}:")
    explain_queries(lambda: stats_queries.province_usage(periods[0]))
    print(f"\nEXPLAIN (ANALYZE) of the agency page's queries, {periods[0].label}:")
    explain_queries(lambda: stats_queries.agency_stats(agency_id, periods[0]))


if __name__ == "__main__":
    main()
