"""Template context shared by every page: the current agency and the user's staff profile."""

from __future__ import annotations

from flask import Flask, g

from app.tenancy.roles import role_label


def install(app: Flask) -> None:
    @app.context_processor
    def qlvb_context() -> dict[str, object]:
        return {"current_agency": getattr(g, "agency", None), "role_label": role_label}
