"""`flask qlvb …` commands."""

from __future__ import annotations

from flask import Flask

from .main import qlvb


def register_cli(app: Flask) -> None:
    app.cli.add_command(qlvb)
