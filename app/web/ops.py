"""Operations endpoints outside the login, on every host: /healthz, /readyz, /metrics; request ids and timing.

- ``/healthz``: the process answers (no database, no agency lookup): for the proxy's and systemd's liveness checks.
- ``/readyz``: database, broker (when configured) and the file store answer: 200, or 503 naming what failed, so a
  load balancer takes the node out of rotation.
- ``/metrics``: Prometheus text, only with ``Authorization: Bearer $QLVB_METRICS_TOKEN``; 404 when no token is
  configured or a wrong one is sent (nothing tells a stranger the endpoint exists).
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from app.core import logs
from app.ops import checks, metrics

log = logging.getLogger("qlvb.ops")
access_log = logging.getLogger("qlvb.access")

bp = Blueprint("ops", __name__)
OPEN_ENDPOINTS = frozenset({"ops.healthz", "ops.readyz", "ops.metrics"})
REQUEST_ID_HEADER = "X-Request-Id"


@bp.get("/healthz")
def healthz() -> Any:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Any:
    results = checks.readiness()
    failed = [r.name for r in results if not r.ok]
    for r in results:
        if not r.ok:
            log.error("not ready: %s: %s", r.name, r.detail)
    body = {"status": "fail" if failed else "ok", "failed": failed, "checks": {r.name: r.as_dict() for r in results}}
    return jsonify(body), 503 if failed else 200


@bp.get("/metrics", endpoint="metrics")
def metrics_view() -> Any:
    token = str(current_app.config.get("QLVB_METRICS_TOKEN") or "")
    sent = request.headers.get("Authorization", "")
    if not token or not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        if token and sent:
            log.warning("metrics scrape refused: wrong bearer token from %s", request.remote_addr)
        return Response("Not Found\n", status=404, mimetype="text/plain")
    return Response(metrics.render(), content_type=metrics.CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def _begin() -> None:
    g.qlvb_started = time.perf_counter()
    g.request_id = logs.clean_request_id(request.headers.get(REQUEST_ID_HEADER)) or logs.new_request_id()
    g.qlvb_request_id_token = logs.bind_request_id(g.request_id)


def _finish(response: Response) -> Response:
    started = g.get("qlvb_started")
    rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    if started is not None:
        seconds = time.perf_counter() - started
        if request.endpoint != "ops.metrics":  # a scrape does not count itself
            metrics.observe_request(rule, request.method, response.status_code, seconds)
        if current_app.config.get("QLVB_LOG_FORMAT") == "json":
            access_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
                "method": request.method, "path": request.path, "route": rule, "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1), "remote_addr": request.remote_addr,
                "host": request.host})
    if g.get("request_id"):
        response.headers[REQUEST_ID_HEADER] = g.request_id
    return response


def _unbind(_exc: BaseException | None) -> None:
    token = g.pop("qlvb_request_id_token", None)
    if token is not None:
        logs.reset_request_id(token)


def install(app: Flask) -> None:
    app.register_blueprint(bp)
    # First of all: unknown hosts and refused requests are timed and carry an id too.
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_finish)
    app.teardown_request(_unbind)
    from app.core import signals

    signals.task_completed.connect(_step_completed, weak=False)


def _step_completed(_sender: Any, task: Any = None, **_kw: Any) -> None:
    metrics.step_completed(str(getattr(task, "process_key", "") or ""))
