"""Build a Flask-WTF form from a FormDefinition, validate it server-side, return JSON-ready data.

Every message is set here in Vietnamese; WTForms' own (English) messages and translations are never used.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.validators import StopValidation
from wtforms.validators import ValidationError as WTFValidationError

from app.core import clock
from app.core.errors import ValidationError
from app.core.text import nfc, nfc_any

from .definitions import FieldDef, FormDefinition
from .patterns import compile_pattern

MSG_REQUIRED = "Trường này là bắt buộc."
MSG_INVALID = "Giá trị không hợp lệ."
MSG_DATE = "Ngày không hợp lệ (dd/mm/yyyy)."
MSG_DATETIME = "Thời điểm không hợp lệ (dd/mm/yyyy hh:mm)."
MSG_INTEGER = "Phải là số nguyên."
MSG_EMAIL = "Địa chỉ email không hợp lệ."
MSG_PATTERN = "Giá trị không đúng định dạng."
MSG_CSRF = "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Vui lòng tải lại trang rồi gửi lại."
MSG_FORM = "Biểu mẫu còn lỗi, vui lòng kiểm tra các trường được đánh dấu."

# Hard caps whatever a definition says: they bound what a request can store and what a pattern must scan.
HARD_MAX_LENGTH = {"text": 1000, "email": 254, "textarea": 20000}

_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y")
_DATETIME_FORMATS = ("%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")


class ChoiceProvider(Protocol):
    """Supplied by the app: dynamic choices (org structure, registers) as (value, label) pairs."""

    def choices_for(
        self, source: str, field: FieldDef, context: Mapping[str, Any]
    ) -> list[tuple[str, str]]: ...


# --- fields ------------------------------------------------------------------------------------------


class _TextField(Field):
    def process_data(self, value: Any) -> None:
        self.data = None if value is None else nfc(str(value))

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = str(valuelist[0]) if valuelist else ""
        self.data = nfc(raw.replace("\r\n", "\n").strip())

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)


def _parse_moment(raw: str, formats: Sequence[str]) -> dt.datetime | None:
    for fmt in formats:
        try:
            return dt.datetime.strptime(raw, fmt)
        except ValueError:
            continue
    return None


class _DateField(Field):
    formats = _DATE_FORMATS
    message = MSG_DATE

    def _coerce(self, moment: dt.datetime) -> Any:
        return moment.date()

    def process_data(self, value: Any) -> None:
        if value is None or value == "":
            self.data = None
        elif isinstance(value, dt.date):
            self.data = value
        else:
            parsed = _parse_moment(str(value).strip(), self.formats)
            if parsed is None:
                self.data = None
                raise ValueError(self.message)
            self.data = self._coerce(parsed)

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.process_data(str(valuelist[0]).strip() if valuelist else None)

    display_format = "%d/%m/%Y"

    def _value(self) -> str:
        # A text input in dd/mm/yyyy, not <input type=date>: that one shows the browser's locale
        # (often en-US, mm/dd) and 03/04 would silently become the 4th of March.
        if self.data:
            return self.data.strftime(self.display_format)
        return str(self.raw_data[0]) if self.raw_data else ""


class _DateTimeField(_DateField):
    formats = _DATETIME_FORMATS
    message = MSG_DATETIME

    def _coerce(self, moment: dt.datetime) -> Any:
        return moment.replace(second=0, microsecond=0)

    display_format = "%d/%m/%Y %H:%M"


class _IntegerField(Field):
    def process_data(self, value: Any) -> None:
        if value is None or value == "":
            self.data = None
            return
        try:
            self.data = int(str(value).strip())
        except ValueError:
            self.data = None
            raise ValueError(MSG_INTEGER) from None

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.process_data(valuelist[0] if valuelist else None)

    def _value(self) -> str:
        if self.raw_data and self.data is None:
            return str(self.raw_data[0])
        return "" if self.data is None else str(self.data)


class _CheckboxField(Field):
    def process_data(self, value: Any) -> None:
        self.data = bool(value)

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = bool(valuelist) and str(valuelist[0]).strip().lower() not in ("", "false", "0", "off")


class _ChoiceField(Field):
    """One value out of ``choices``; a value not offered is refused whatever the browser sent."""

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.choices = choices

    def process_data(self, value: Any) -> None:
        self.data = None if value is None or value == "" else nfc(str(value))

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = str(valuelist[0]).strip() if valuelist else ""
        self.data = nfc(raw) if raw else None

    def pre_validate(self, form: Any) -> None:
        allowed = {value for value, _ in self.choices}
        if self.data is not None and self.data not in allowed:
            raise WTFValidationError(MSG_INVALID)


class _MultiChoiceField(_ChoiceField):
    def process_data(self, value: Any) -> None:
        values = value if isinstance(value, list | tuple) else ([] if value in (None, "") else [value])
        self.data = _unique(nfc(str(v)) for v in values)

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = _unique(nfc(str(v).strip()) for v in valuelist if str(v).strip())

    def pre_validate(self, form: Any) -> None:
        allowed = {value for value, _ in self.choices}
        if any(v not in allowed for v in self.data):
            raise WTFValidationError(MSG_INVALID)


class _FileField(Field):
    def process_data(self, value: Any) -> None:
        self.data = []

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = [f for f in valuelist if isinstance(f, FileStorage) and f.filename]


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(values))


_FIELD_CLASSES: dict[str, type[Field]] = {
    "text": _TextField,
    "textarea": _TextField,
    "email": _TextField,
    "integer": _IntegerField,
    "date": _DateField,
    "datetime": _DateTimeField,
    "checkbox": _CheckboxField,
    "file": _FileField,
    "select": _ChoiceField,
    "radio": _ChoiceField,
    "department": _ChoiceField,
    "user": _ChoiceField,
    "multiselect": _MultiChoiceField,
    "departments": _MultiChoiceField,
    "users": _MultiChoiceField,
    "agencies": _MultiChoiceField,
}


# --- validators --------------------------------------------------------------------------------------


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def _presence(fdef: FieldDef) -> Callable[[Any, Field], None]:
    """First in every chain: required / required_if, and an empty optional field skips the other checks."""

    def check(form: Any, field: Field) -> None:
        if field.process_errors:
            raise StopValidation()  # the parse error already explains what is wrong
        if not _is_empty(field.data):
            return
        needed = fdef.required or (
            fdef.required_if is not None and fdef.required_if.holds(_current_values(form))
        )
        raise StopValidation(MSG_REQUIRED if needed else None)

    return check


def _length(fdef: FieldDef) -> Callable[[Any, Field], None]:
    hard = HARD_MAX_LENGTH[fdef.type]
    low, high = fdef.min_length, min(fdef.max_length or hard, hard)
    if low is not None and fdef.max_length is not None:
        message = f"Phải có từ {low} đến {high} ký tự."
    elif low is not None:
        message = f"Phải có ít nhất {low} ký tự."
    else:
        message = f"Không được quá {high} ký tự."

    def check(form: Any, field: Field) -> None:
        if len(field.data) > high or (low is not None and len(field.data) < low):
            raise WTFValidationError(message)

    return check


def _pattern(fdef: FieldDef) -> Callable[[Any, Field], None]:
    compiled = compile_pattern(fdef.pattern or "")  # RE2: linear time, no catastrophic backtracking
    message = fdef.pattern_message or MSG_PATTERN

    def check(form: Any, field: Field) -> None:
        if compiled.fullmatch(field.data) is None:
            raise WTFValidationError(message)

    return check


def _email(form: Any, field: Field) -> None:
    if _EMAIL_RE.fullmatch(field.data) is None:
        raise WTFValidationError(MSG_EMAIL)


def _range(fdef: FieldDef) -> Callable[[Any, Field], None]:
    low, high = fdef.min, fdef.max
    if low is not None and high is not None:
        message = f"Phải từ {low} đến {high}."
    elif low is not None:
        message = f"Phải lớn hơn hoặc bằng {low}."
    else:
        message = f"Phải nhỏ hơn hoặc bằng {high}."

    def check(form: Any, field: Field) -> None:
        if (low is not None and field.data < low) or (high is not None and field.data > high):
            raise WTFValidationError(message)

    return check


def _validators(fdef: FieldDef) -> list[Callable[[Any, Field], None]]:
    if fdef.readonly:
        return []  # the value comes from the server, never from the browser
    chain = [_presence(fdef)]
    if fdef.type in HARD_MAX_LENGTH:
        chain.append(_length(fdef))
    if fdef.type == "email":
        chain.append(_email)
    if fdef.pattern:
        chain.append(_pattern(fdef))
    if fdef.type == "integer" and (fdef.min is not None or fdef.max is not None):
        chain.append(_range(fdef))
    return chain


# --- the form ------------------------------------------------------------------------------------------


class DynamicForm(FlaskForm):
    """Base of every generated form; ``definition`` is the FormDefinition it was built from."""

    definition: FormDefinition

    class Meta:
        def get_translations(self, form: Any) -> None:
            return None  # messages are Vietnamese at the source; no English catalogue may leak in

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid = super().validate(extra_validators)
        token = self._fields.get("csrf_token")
        if token is not None and token.errors:
            token.errors[:] = [MSG_CSRF]
        return valid


def _default_for(fdef: FieldDef) -> Any:
    if fdef.type == "date" and fdef.default == "today":
        return clock.today
    if fdef.type == "checkbox":
        return bool(fdef.default)
    return fdef.default


def _choices_for(fdef: FieldDef, provider: Any, context: Mapping[str, Any]) -> list[tuple[str, str]]:
    if fdef.source is None:
        return [(c.value, c.label) for c in fdef.choices]
    return [(nfc(str(v)), nfc(str(label))) for v, label in provider.choices_for(fdef.source, fdef, context)]


def build_form(
    defn: FormDefinition,
    *,
    choices: ChoiceProvider,
    formdata: Any = None,
    data: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    csrf: bool = True,
) -> DynamicForm:
    """Return a bound form. ``formdata`` is the POSTed MultiDict (with files: CombinedMultiDict), None on GET.

    ``data`` pre-fills values (JSON shape, as ``cleaned_data`` returns); ``context`` is what the
    ChoiceProvider sees (process data, e.g. the department chosen on an earlier form).
    """
    context = context or {}
    attrs: dict[str, Any] = {"definition": defn}
    for fdef in defn.fields:
        cls = _FIELD_CLASSES[fdef.type]
        kwargs: dict[str, Any] = {
            "label": fdef.label,
            "validators": _validators(fdef),
            "default": _default_for(fdef),
        }
        if fdef.has_choices:
            kwargs["choices"] = _choices_for(fdef, choices, context)
        attrs[fdef.name] = cls(**kwargs)
    form_cls = type(f"{defn.key.title().replace('_', '')}Form", (DynamicForm,), attrs)
    meta = None if csrf else {"csrf": False}
    form = form_cls(formdata=formdata, data=dict(data or {}), meta=meta)
    if formdata is not None:
        for fdef in defn.fields:
            if fdef.readonly:
                form[fdef.name].process(None, (data or {}).get(fdef.name, unset_value))
    return form


def _current_values(form: Any) -> dict[str, Any]:
    """Field name -> parsed value of every field (what required_if conditions see)."""
    definition: FormDefinition = form.definition
    return {f.name: form[f.name].data for f in definition.fields}


def _json_value(fdef: FieldDef, value: Any) -> Any:
    if fdef.type == "checkbox":
        return bool(value)
    if fdef.is_multi:
        return list(value or [])
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def cleaned_data(defn: FormDefinition, form: Any) -> dict[str, Any]:
    """JSON-serialisable values of a validated form (dates ISO, ints, lists), strings NFC; files excluded."""
    values = {f.name: _json_value(f, form[f.name].data) for f in defn.fields if f.type != "file"}
    return nfc_any(values)


def uploaded_files(defn: FormDefinition, form: Any) -> dict[str, list[FileStorage]]:
    """The uploads of each file field, for the documents domain to store."""
    return {f.name: list(form[f.name].data or []) for f in defn.fields if f.type == "file"}


def validate_submission(defn: FormDefinition, form: Any) -> dict[str, Any]:
    """Validate and return ``cleaned_data``, or raise ValidationError with Vietnamese field errors."""
    if not form.validate():
        raise ValidationError(MSG_FORM, field_errors=form.errors)
    return cleaned_data(defn, form)
