"""Render a FormDefinition to Bootstrap 3 HTML (the markup Flask-AppBuilder pages use).

Labels and help texts are written by agency admins: they go through a sandboxed, autoescaping Jinja2
environment and the template only sees plain view objects, never the WTForms form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from .build import MSG_FORM, ChoiceProvider, build_form
from .definitions import FieldDef, FormDefinition

_env = SandboxedEnvironment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

_INPUT_TYPES = {"text": "text", "email": "email", "integer": "number", "date": "text", "datetime": "text"}
_PLACEHOLDERS = {"date": "dd/mm/yyyy", "datetime": "dd/mm/yyyy hh:mm"}


def is_deadline(fdef: FieldDef) -> bool:
    """A date field that sets a time limit (hạn xử lý, hạn giải quyết, hạn trả lời…), by its name."""
    return fdef.type == "date" and ("deadline" in fdef.name or fdef.name.startswith("due"))


@dataclass(frozen=True, slots=True)
class _OptionView:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True, slots=True)
class _FieldView:
    name: str
    id: str
    label: str
    kind: str  # input | textarea | select | radio | checkbox | checklist | file
    input_type: str
    required: bool
    readonly: bool
    help: str | None
    placeholder: str | None
    value: str
    checked: bool
    options: tuple[_OptionView, ...]
    errors: tuple[str, ...]
    described_by: str
    min: int | None
    max: int | None
    max_length: int | None
    picker: str | None = None  # date | datetime: the page's date picker attaches to the input
    workdays: bool = False  # a deadline: the page shows how many working days remain


@dataclass(frozen=True, slots=True)
class _FormView:
    title: str
    description: str | None
    action: str | None
    submit_label: str
    multipart: bool
    csrf_token: str | None
    fields: tuple[_FieldView, ...]
    summary: str | None  # shown above the fields when anything is wrong
    preview: bool
    form_id: str | None = None
    extra: Markup | None = None  # controls the page adds before the submit button (already escaped)
    lead: Markup | None = None  # controls the page adds before the form's own fields (already escaped)
    force_multipart: bool = False


@dataclass(frozen=True, slots=True)
class _ReadonlyRow:
    label: str
    lines: tuple[str, ...]  # one entry per line of text, or per chosen item


def _kind(fdef: FieldDef) -> str:
    if fdef.type == "textarea":
        return "textarea"
    if fdef.type in ("radio", "checkbox", "file"):
        return fdef.type
    if fdef.is_multi:
        return "checklist"
    if fdef.has_choices:
        return "select"
    return "input"


def _field_view(fdef: FieldDef, field: Any) -> _FieldView:
    if fdef.has_choices:
        chosen = set(field.data or []) if fdef.is_multi else {field.data}
        options = tuple(_OptionView(v, label, v in chosen) for v, label in field.choices)
    else:
        options = ()
    value = "" if fdef.type in ("checkbox", "file") or fdef.has_choices else field._value()
    return _FieldView(
        name=fdef.name,
        id=f"qf-{fdef.name}",
        label=fdef.label,
        kind=_kind(fdef),
        input_type=_INPUT_TYPES.get(fdef.type, "text"),
        required=fdef.required,
        readonly=fdef.readonly,
        help=fdef.help,
        placeholder=fdef.placeholder or _PLACEHOLDERS.get(fdef.type),
        value=value,
        checked=fdef.type == "checkbox" and bool(field.data),
        options=options,
        errors=tuple(field.errors),
        described_by=" ".join(
            f"qf-{fdef.name}-{part}"
            for part, present in (("error", field.errors), ("help", fdef.help))
            if present
        ),
        min=fdef.min,
        max=fdef.max,
        max_length=fdef.max_length,
        picker=fdef.type if fdef.type in ("date", "datetime") and not fdef.readonly else None,
        workdays=is_deadline(fdef) and not fdef.readonly,
    )


def _form_view(
    defn: FormDefinition, form: Any, *, action: str | None, submit_label: str, preview: bool,
    form_id: str | None = None, extra: Markup | None = None, lead: Markup | None = None,
    multipart: bool = False,
) -> _FormView:
    token_field = form._fields.get("csrf_token")
    fields = tuple(_field_view(f, form[f.name]) for f in defn.fields)
    if token_field is not None and token_field.errors:
        summary: str | None = " ".join(token_field.errors)
    elif any(f.errors for f in fields):
        summary = MSG_FORM
    else:
        summary = None
    return _FormView(
        title=defn.title,
        description=defn.description,
        action=action,
        submit_label=submit_label,
        multipart=defn.has_files,
        csrf_token=str(token_field.current_token) if token_field is not None else None,
        fields=fields,
        summary=summary,
        preview=preview,
        form_id=form_id,
        extra=extra,
        lead=lead,
        force_multipart=multipart,
    )


def _call_macro(name: str, *args: Any) -> Markup:
    # With autoescape on, a macro returns Markup whose every interpolation was escaped.
    result = getattr(_env.get_template("form.html").module, name)(*args)
    assert isinstance(result, Markup)
    return result


def render_form(
    defn: FormDefinition, form: Any, *, action: str | None = None, submit_label: str = "Gửi",
    form_id: str | None = None, extra: Markup | None = None, lead: Markup | None = None, multipart: bool = False,
) -> Markup:
    """The HTML form, with the errors of a validated ``form`` next to their fields.

    ``extra`` is markup the page adds before the submit button (e.g. a signing PIN), ``lead`` before the
    fields (e.g. a title every case has); both must be Markup built with escaping (a rendered template),
    never raw text. ``multipart`` when those add file inputs."""
    view = _form_view(defn, form, action=action, submit_label=submit_label, preview=False, form_id=form_id,
                      extra=extra, lead=lead, multipart=multipart)
    return _call_macro("form", view)


class _SampleChoices:
    def choices_for(self, source: str, field: FieldDef, context: Mapping[str, Any]) -> list[tuple[str, str]]:
        return [(f"sample_{i}", f"Lựa chọn mẫu {i}") for i in (1, 2, 3)]


def render_preview(defn: FormDefinition) -> Markup:
    """What the form will look like (form editor): sample choices, nothing can be submitted."""
    form = build_form(defn, choices=_SampleChoices(), csrf=False)
    view = _form_view(defn, form, action=None, submit_label="Gửi", preview=True)
    return _call_macro("form", view)


def _display(fdef: FieldDef, value: Any, labels: Mapping[str, str]) -> tuple[str, ...]:
    if fdef.type == "checkbox":
        return ("Có" if value else "Không",)
    if value is None or value == "" or value == []:
        return ()
    if fdef.has_choices:
        values = value if isinstance(value, list | tuple) else [value]
        # A value that is no longer offered (a department renamed away) still shows, raw.
        return tuple(labels.get(str(v), str(v)) for v in values)
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    if fdef.type in ("date", "datetime"):
        return (_format_moment(fdef.type, value),)
    return tuple(str(value).splitlines()) or ("",)


def _format_moment(ftype: str, value: Any) -> str:
    try:
        if ftype == "date":
            return dt.date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        return dt.datetime.fromisoformat(str(value)).strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return str(value)


def render_readonly(
    defn: FormDefinition,
    data: Mapping[str, Any],
    *,
    choices: ChoiceProvider,
    context: Mapping[str, Any] | None = None,
) -> Markup:
    """The submitted values as a read-only table (history, timeline), choice values shown by their labels."""
    lookup_context = {**(context or {}), **data}
    rows = []
    for fdef in defn.fields:
        labels: dict[str, str] = {}
        if fdef.has_choices:
            pairs = (
                [(c.value, c.label) for c in fdef.choices]
                if fdef.source is None
                else choices.choices_for(fdef.source, fdef, lookup_context)
            )
            labels = {str(v): str(label) for v, label in pairs}
        rows.append(_ReadonlyRow(fdef.label, _display(fdef, data.get(fdef.name), labels)))
    return _call_macro("readonly", defn.title, tuple(rows))
