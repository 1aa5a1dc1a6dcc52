"""Values as an official reads them on Flask-AppBuilder list and detail pages: FAB prints ``True``, ``None``,
``[clerk]`` and UTC times as Python wrote them; every admin view shows them in Vietnamese instead."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from app.core.clock import VN_TZ
from app.tenancy.roles import role_label


def display(value: Any) -> str:
    """``True`` → Có, ``None`` → —, a moment in Vietnam time, roles by their names, lists joined."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return moment.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable):
        shown = [display(v) for v in value]
        return ", ".join(shown) if shown else "—"
    name = getattr(value, "name", None)
    if isinstance(name, str) and type(value).__name__ == "Role":
        return role_label(name)
    return str(value)


class VietnameseValues:
    """Mixin for a ModelView: every listed or shown column goes through :func:`display`, after any formatter the
    view declares itself (whose result is then shown as it is)."""

    formatters_columns: dict[str, Callable[[Any], Any]]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[call-arg]
        VietnameseValues.apply(self)

    @staticmethod
    def apply(view: Any) -> None:
        """Give an initialised view formatters for all its listed and shown columns (FAB's own views too)."""
        own = dict(getattr(view, "formatters_columns", None) or {})
        columns: list[str] = [*getattr(view, "list_columns", []), *getattr(view, "show_columns", [])]
        for _title, spec in getattr(view, "show_fieldsets", None) or []:
            columns.extend(spec.get("fields", []))
        for _title, spec in getattr(view, "user_show_fieldsets", None) or []:
            columns.extend(spec.get("fields", []))
        formatters: dict[str, Callable[[Any], Any]] = {c: display for c in columns}
        for name, fn in own.items():
            formatters[name] = _then_display(fn)
        view.formatters_columns = formatters


def _then_display(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def formatted(value: Any) -> Any:
        out = fn(value)
        return out if isinstance(out, str) and out else display(out)

    return formatted
