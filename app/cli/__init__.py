"""`flask qlvb …` commands."""

from __future__ import annotations

from flask import Flask

from . import (  # noqa: F401  (each adds its commands to the group)
    axis,  # axis send, poll, outbox
    doctor,  # doctor
    ops,  # backup, restore, audit, maintenance
    staff,  # staff import
    storage,  # storage migrate, check, sweep
)
from .main import qlvb


def register_cli(app: Flask) -> None:
    app.cli.add_command(qlvb)
