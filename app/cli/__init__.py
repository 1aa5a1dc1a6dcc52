"""`flask qlvb …` commands."""

from __future__ import annotations

from flask import Flask

from . import axis, ops  # noqa: F401  (adds axis, backup, restore, audit, maintenance to the group)
from .main import qlvb


def register_cli(app: Flask) -> None:
    app.cli.add_command(qlvb)
