"""Prometheus metrics (prometheus-client), scraped at /metrics with a bearer token.

Counted where things happen, in every process: HTTP requests by route template and status with a latency
histogram, workflow steps completed, periodic job runs and failures (embedded scheduler and Celery worker).
Read from the database when scraped, by the process that answers: open workflow incidents per agency, e-mails
waiting in the outbox, and the exchange outbox's depth when that table exists.

Several gunicorn workers: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder (the same for the web and worker
processes of one host) before the processes start; each process then writes its counters there and a scrape of
any worker adds them all up (prometheus_client's multiprocess mode). Without it, a scrape sees only the process
that answered it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, inspect, select, text

from app.extensions import db

log = logging.getLogger("qlvb.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

disable_created_metrics()  # the *_created series double the output and no dashboard of ours reads them
# Our own registry: the process's default one is left to the library (and to tests that count deltas).
APP_REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter("qlvb_http_requests", "HTTP requests answered, by route template, method and status",
                        ["endpoint", "method", "status"], registry=APP_REGISTRY)
HTTP_LATENCY = Histogram("qlvb_http_request_duration_seconds", "Time to answer an HTTP request, by route template",
                         ["endpoint"], registry=APP_REGISTRY,
                         buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
STEPS_COMPLETED = Counter("qlvb_workflow_steps_completed", "Human workflow steps completed, by process",
                          ["process"], registry=APP_REGISTRY)
JOB_RUNS = Counter("qlvb_job_runs", "Background job runs, by job", ["job"], registry=APP_REGISTRY)
JOB_FAILURES = Counter("qlvb_job_failures", "Background job runs that raised, by job", ["job"],
                       registry=APP_REGISTRY)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(endpoint, method, str(status)).inc()
    HTTP_LATENCY.labels(endpoint).observe(seconds)


def job_finished(job: str, *, failed: bool) -> None:
    JOB_RUNS.labels(job).inc()
    if failed:
        JOB_FAILURES.labels(job).inc()


def step_completed(process_key: str) -> None:
    STEPS_COMPLETED.labels(process_key or "-").inc()


class _Forward(Collector):
    """Yields what another registry holds (our counters, in a single-process deployment)."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time (needs an app context)."""

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._collect()
        except Exception as exc:  # a scrape must answer even when the database does not
            log.warning("metrics from the database unavailable: %s", exc)
            db.session.rollback()
            up = GaugeMetricFamily("qlvb_database_up", "1 when the database answered the scrape's queries")
            up.add_metric([], 0)
            yield up

    def _collect(self) -> Iterator[Metric]:
        from app.notifications.models import EmailOutbox
        from app.tenancy.models import Agency
        from app.workflow.models import WorkflowIncident

        try:
            incidents = db.session.execute(
                select(Agency.code, func.count(WorkflowIncident.id))
                .join(Agency, Agency.id == WorkflowIncident.agency_id)
                .where(WorkflowIncident.resolved_at.is_(None))
                .group_by(Agency.code)
            ).all()
            mail = db.session.execute(
                select(EmailOutbox.status, func.count()).where(EmailOutbox.status == "pending")
                .group_by(EmailOutbox.status)
            ).all()
            exchange = self._exchange_outbox()
        finally:
            db.session.rollback()
        up = GaugeMetricFamily("qlvb_database_up", "1 when the database answered the scrape's queries")
        up.add_metric([], 1)
        yield up
        open_incidents = GaugeMetricFamily("qlvb_workflow_open_incidents", "Unresolved workflow incidents, by agency",
                                           labels=["agency"])
        for code, count in incidents:
            open_incidents.add_metric([code], count)
        yield open_incidents
        pending = GaugeMetricFamily("qlvb_email_outbox_pending", "E-mails queued and not yet sent")
        pending.add_metric([], sum(n for _s, n in mail))
        yield pending
        if exchange is not None:
            depth = GaugeMetricFamily("qlvb_exchange_outbox_depth",
                                      "Messages in exchange_outbox not sent yet, by state", labels=["state"])
            for status, count in exchange:
                depth.add_metric([str(status)], count)
            yield depth

    @staticmethod
    def _exchange_outbox() -> list[Any] | None:
        """Rows of ``exchange_outbox`` not yet sent, by state; None when the table does not exist."""
        connection = db.session.connection()
        if not inspect(connection).has_table("exchange_outbox"):
            return None
        columns = {c["name"] for c in inspect(connection).get_columns("exchange_outbox")}
        column = next((c for c in ("state", "status") if c in columns), None)
        if column is None:
            return [("all", db.session.execute(text("SELECT count(*) FROM exchange_outbox")).scalar_one())]
        # ``column`` is one of two literals above, never input.
        sql = f"SELECT {column}, count(*) FROM exchange_outbox WHERE {column} <> 'sent' GROUP BY {column}"  # noqa: S608
        return list(db.session.execute(text(sql)).all())


def render() -> bytes:
    """The exposition text of every process of this host (multiprocess mode) or of this one, plus the gauges."""
    registry = CollectorRegistry()
    folder = multiprocess_dir()
    if folder:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry, path=folder)
    else:
        registry.register(_Forward(APP_REGISTRY))
    registry.register(DatabaseCollector())
    return generate_latest(registry)
