"""`flask qlvb …` commands."""

from __future__ import annotations

from flask import Flask

from . import (
    ops,  # noqa: F401  (adds backup, restore, audit, maintenance to the group)
    storage,  # noqa: F401  (adds storage migrate, check, sweep)
)
from .main import qlvb


def register_cli(app: Flask) -> None:
    app.cli.add_command(qlvb)
