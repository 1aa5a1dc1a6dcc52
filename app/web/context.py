"""Template context shared by every page: the current agency and the user's staff profile."""

from __future__ import annotations

import datetime as dt

from flask import Flask, g

from app.core.clock import VN_TZ
from app.tenancy.roles import role_label


def vn_datetime(value: dt.datetime | dt.date | None) -> str:
    """dd/mm/yyyy HH:MM in Vietnam time (dates alone as dd/mm/yyyy)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


def vn_date(value: dt.datetime | dt.date | None) -> str:
    """dd/mm/yyyy, of the moment's day in Vietnam."""
    return vn_datetime(value)[:10]


def install(app: Flask) -> None:
    app.add_template_filter(vn_datetime, "vn_datetime")
    app.add_template_filter(vn_date, "vn_date")

    @app.context_processor
    def qlvb_context() -> dict[str, object]:
        return {"current_agency": getattr(g, "agency", None), "role_label": role_label}
