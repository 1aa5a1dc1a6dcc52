"""Resolve the request's host to an agency before anything else runs (host-based tenancy)."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, render_template, request

from app.tenancy.hosts import host_to_code
from app.tenancy.queries import agency_for_host

log = logging.getLogger(__name__)

_OPEN_ENDPOINTS = {"static", "appbuilder.static"}


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
    agency = agency_for_host(ref)
    g.agency = agency
    if agency is None:
        log.warning("unknown host %r from %s", request.host, request.remote_addr)
        return render_template("errors/unknown_host.html", host=ref.host), 404
    return None


def install(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _resolve)
