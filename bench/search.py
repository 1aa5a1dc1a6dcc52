#!/usr/bin/env python3
"""Search over 1 million documents on PostgreSQL: the real search query vs an unindexed ILIKE baseline.

Run: .venv/bin/python bench/search.py [--documents 1000000] [--queries 200] [--baseline 40] [--trigram]
     [--keep-db NAME]   (reuse a database made by an earlier run with --no-drop; skips generation)
DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test) names the server only: a scratch database
is created next to it and dropped at the end; the tests' database is never touched.

Prints p50/p95 of app.search (count + one page of 20, relevance order, agency scope as a user sees it) over
random Vietnamese queries, the same for `search_text ILIKE '%…%'` (no text index), their ratio (target:
search p95 <= 100 ms and >= 20x faster), and EXPLAIN summaries. --trigram also measures a pg_trgm GIN index.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import corpus
from sqlalchemy import and_, func, select, text

from app.documents.models import Document
from app.extensions import db
from app.search import queries as search_queries
from app.search.criteria import criteria_from_params


def random_queries(n: int, seed: int = 7) -> list[str]:
    """What people type: topic fragments, a place, a number/notation, with or without diacritics and case."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        kind = rnd.random()
        if kind < 0.35:
            words = rnd.choice(corpus.TOPICS).replace(",", "").split()
            start = rnd.randrange(max(1, len(words) - 1))
            q = " ".join(words[start:start + rnd.choice([2, 3])])
        elif kind < 0.55:
            q = rnd.choice(corpus.VERBS).replace(",", "") + " " + rnd.choice(corpus.TOPICS).split()[0]
        elif kind < 0.7:
            q = rnd.choice(corpus.TOPICS).split(" ", 1)[-1] + " " + rnd.choice(corpus.PLACES).split()[-1]
        elif kind < 0.85:
            q = f"{rnd.randrange(1, 1_000_000)}/{rnd.choice(['QĐ', 'KH', 'BC', 'TB', 'UBND'])}-UBND"
        else:
            q = rnd.choice(corpus.ISSUERS) + " " + rnd.choice(corpus.TOPICS).split()[-1]
        r = rnd.random()
        if r < 0.3:
            from app.core.text import fold

            q = fold(q)
        elif r < 0.45:
            q = q.upper()
        out.append(q)
    return out


def timed(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    result = fn()
    return (time.perf_counter() - t) * 1000, result


def indexed_search(agency_id: int, q: str) -> tuple[int, list[int]]:
    """Exactly the statements app.search.queries.search_documents sends (minus the per-person visibility)."""
    criteria = criteria_from_params({"q": q})
    stmt = search_queries.matching_query(agency_id, criteria, dialect="postgresql")
    ids, total, _, _ = search_queries.page_of_ids(stmt, criteria)
    search_queries._hits(ids, criteria.parsed)
    return total, ids


def ilike_conditions(q: str) -> list[Any]:
    criteria = criteria_from_params({"q": q})
    return [Document.search_text.ilike("%" + "%".join(g) + "%") for g in criteria.parsed.groups]


def ilike_search(agency_id: int, q: str) -> tuple[int, list[int]]:
    """The naive way, same contract (count up to COUNT_LIMIT + a page by date), matching with ILIKE (no text index)."""
    where = and_(Document.agency_id == agency_id, *ilike_conditions(q))
    limit = search_queries.COUNT_LIMIT + 1
    total = db.session.scalar(select(func.count()).select_from(select(Document.id).where(where).limit(limit)
                                                                .subquery())) or 0
    ids = list(db.session.scalars(select(Document.id).where(where)
                                  .order_by(Document.issue_date.desc(), Document.id.desc()).limit(20)))
    return total, ids


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def explain(sql: Any, label: str) -> None:
    compiled = sql.compile(dialect=db.session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    plan = db.session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {compiled}")).scalars().all()
    print(f"  EXPLAIN {label}:")
    for line in plan[:14]:
        print("    " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    corpus.add_arguments(parser)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--baseline", type=int, default=40, help="how many of the queries also run as ILIKE")
    parser.add_argument("--trigram", action="store_true", help="also measure a pg_trgm GIN index on search_text")
    corpus.run_on_corpus(parser.parse_args(), run)


def run(args: argparse.Namespace) -> None:
    agencies = list(db.session.scalars(text(
        "SELECT agency_id FROM document GROUP BY agency_id ORDER BY agency_id")))
    count = db.session.scalar(text("SELECT count(*) FROM document"))
    print(f"{count:,} documents in {len(agencies)} agencies; "
          f"~{count // max(1, len(agencies)):,} per agency; queries run as one agency's user")
    rnd = random.Random(11)
    queries = random_queries(args.queries)
    plan = [(rnd.choice(agencies), q) for q in queries]
    for agency_id, q in plan[:5]:  # warm the cache the way a running server is warm
        indexed_search(agency_id, q)
        ilike_search(agency_id, q)

    fast, matches = [], []
    for agency_id, q in plan:
        ms, (total, _) = timed(lambda a=agency_id, q=q: indexed_search(a, q))
        fast.append(ms)
        matches.append(total)
    slow, paired, mismatched = [], [], 0
    for i, (agency_id, q) in enumerate(plan[:args.baseline]):
        ms, (total, _) = timed(lambda a=agency_id, q=q: ilike_search(a, q))
        slow.append(ms)
        paired.append(ms / max(fast[i], 0.01))
        mismatched += total != matches[i]

    print(f"\nsearch (FTS, GIN on agency-prefixed search_tsv), {len(fast)} random queries:"
          f" p50 {pct(fast, 50):.1f} ms, p95 {pct(fast, 95):.1f} ms, max {max(fast):.1f} ms;"
          f" matches per query (counted up to {search_queries.COUNT_LIMIT}) median {statistics.median(matches):.0f}")
    print(f"baseline (ILIKE, no text index), first {len(slow)} queries:"
          f" p50 {pct(slow, 50):.1f} ms, p95 {pct(slow, 95):.1f} ms")
    print(f"ratio baseline/search: p50 {pct(slow, 50) / pct(fast[:len(slow)], 50):.0f}x,"
          f" p95 {pct(slow, 95) / pct(fast[:len(slow)], 95):.0f}x,"
          f" per query median {statistics.median(paired):.0f}x, worst {min(paired):.0f}x")
    print(f"  ({mismatched} of {len(slow)} baseline counts differ: ILIKE matches inside words, FTS whole words)")
    ok = pct(fast, 95) <= 100 and pct(slow, 95) / pct(fast[:len(slow)], 95) >= 20
    print(f"target p95 <= 100 ms and >= 20x: {'MET' if ok else 'NOT MET'}")

    heavy = max(range(len(plan)), key=lambda i: matches[i])
    agency_id, q = plan[heavy]
    cap = search_queries.COUNT_LIMIT
    print(f"\nEXPLAIN for the query with most matches ({q!r}, {matches[heavy]} matches, count capped at {cap}):")
    criteria = criteria_from_params({"q": q})
    stmt = search_queries.matching_query(agency_id, criteria, dialect="postgresql")
    explain(stmt.limit(cap + 1), f"search, first pass (count up to {cap} + rank)")
    explain(stmt.with_only_columns(Document.id).order_by(Document.issue_date.desc().nulls_last(),
                                                         Document.id.desc()).limit(20),
            f"search, page by date when more than {cap} match")
    explain(select(Document.id).where(Document.agency_id == agency_id, *ilike_conditions(q))
            .order_by(Document.issue_date.desc()).limit(20), "ILIKE page")
    if args.trigram:
        trigram(plan[:args.baseline], fast[:args.baseline])


def trigram(plan: list[tuple[int, str]], fast: list[float]) -> None:
    t = time.perf_counter()
    db.session.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    db.session.execute(text("SET maintenance_work_mem = '1GB'"))
    db.session.execute(text("CREATE INDEX bench_trgm ON document USING gin (search_text gin_trgm_ops)"))
    db.session.commit()
    print(f"\ntrigram GIN index built in {time.perf_counter() - t:.0f} s")
    tri = [timed(lambda a=a, q=q: ilike_search(a, q))[0] for a, q in plan]
    print(f"trigram (same ILIKE, pg_trgm GIN): p50 {pct(tri, 50):.1f} ms, p95 {pct(tri, 95):.1f} ms"
          f" vs FTS p50 {pct(fast, 50):.1f} ms, p95 {pct(fast, 95):.1f} ms on the same {len(plan)} queries")
    size = db.session.execute(text(
        "SELECT pg_size_pretty(pg_relation_size('bench_trgm')), pg_size_pretty(pg_relation_size('ix_document_search'))"
    )).one()
    print(f"index size: trigram {size[0]}, FTS {size[1]}")
    db.session.execute(text("DROP INDEX bench_trgm"))
    db.session.commit()


if __name__ == "__main__":
    main()
