"""Errors of the statistics domain."""

from __future__ import annotations

from app.core.errors import ValidationError


class StatsPeriodError(ValidationError):
    code = "stats_period"
