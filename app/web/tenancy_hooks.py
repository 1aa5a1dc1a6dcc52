"""Resolve the request's host to an agency before anything else runs (host-based tenancy)."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, jsonify, render_template, request, session

from app.core import revisions
from app.tenancy.hosts import HostRef, host_to_code
from app.tenancy.queries import AgencyRef, agency_for_host

log = logging.getLogger(__name__)
# host -> agency, valid while the "org" revision stands (every request reads the revisions first, in one query)
_AGENCIES = revisions.DefinitionCache("org", maxsize=512)

# Static files and the operations endpoints (app/web/ops.py) answer on any host, a load balancer's IP included.
_OPEN_ENDPOINTS = {"static", "appbuilder.static", "ops.healthz", "ops.readyz", "ops.metrics"}


_CHECK_KEY = "_qlvb_agency_check"


def _agency(ref: HostRef) -> AgencyRef | None:
    """The host's agency. With a logged-in session the revision counters come with the user, in the request's
    next query: the cached agency is used now and checked then (``_recheck``); otherwise they are read here."""
    if session.get("_user_id") is None:
        revisions.load()
        return _AGENCIES.get(ref, lambda: agency_for_host(ref))
    hit = _AGENCIES.peek(ref)
    if hit is None:
        revisions.load()
        return _AGENCIES.get(ref, lambda: agency_for_host(ref))
    setattr(g, _CHECK_KEY, (ref, hit[0]))
    return hit[1]  # type: ignore[no-any-return]


def _recheck(values: dict[str, int]) -> None:
    pending = g.pop(_CHECK_KEY, None)
    if pending is None:
        return
    ref, revision = pending
    if revision != values["org"]:  # the agencies changed since the entry was built: resolve the host again
        agency = agency_for_host(ref)
        _AGENCIES.put(ref, values["org"], agency)
        g.agency = agency


def _resolve() -> object | None:
    if request.endpoint in _OPEN_ENDPOINTS or request.blueprint == "axis_hub":  # systems, not agencies' staff
        g.agency = None
        return None
    cfg = current_app.config
    ref = host_to_code(
        request.host,
        domain_suffix=cfg["QLVB_DOMAIN_SUFFIX"],
        local_suffix=cfg["QLVB_LOCAL_SUFFIX"],
        central_host=cfg["QLVB_CENTRAL_HOST"],
    )
    agency = _agency(ref)
    g.agency = agency
    if agency is None:
        log.warning("unknown host %r from %s", request.host, request.remote_addr)
        if request.blueprint == "api":
            return jsonify({"error": {"code": "unknown_host", "message": "Tên miền này không thuộc cơ quan nào "
                                                                         "trên hệ thống"}}), 404
        return render_template("errors/unknown_host.html", host=ref.host), 404
    return None


def install(app: Flask) -> None:
    revisions.on_read(_recheck)
    app.before_request_funcs.setdefault(None, []).insert(0, _resolve)
