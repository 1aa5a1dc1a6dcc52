"""Form definitions: parse ``forms/<key>.yaml`` into frozen dataclasses, validate them, cache by content hash.

Agency admins edit these files, so every problem is reported at once, in Vietnamese, naming the field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from app.core.errors import DomainError, NotFoundError
from app.core.text import nfc
from app.core.yamlsafe import yaml_hazard

from .patterns import PatternError, compile_pattern

MAX_DEFINITION_BYTES = 200 * 1024
# A key comes from URLs and task records: this pattern alone guarantees it names a file inside forms_dir.
FORM_KEY_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
FIELD_NAME_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
MAX_PATTERN_LENGTH = 300

FIELD_TYPES = (
    "text",
    "textarea",
    "integer",
    "date",
    "datetime",
    "select",
    "multiselect",
    "radio",
    "checkbox",
    "email",
    "department",
    "departments",
    "user",
    "users",
    "agencies",
    "file",
)
CHOICE_SOURCES = ("departments", "staff", "agencies", "document_types", "leaders")
# Types whose choices come from the org structure unless the definition names another source.
DEFAULT_SOURCES = {
    "department": "departments",
    "departments": "departments",
    "user": "staff",
    "users": "staff",
    "agencies": "agencies",
}
CHOICE_TYPES = frozenset({"select", "multiselect", "radio", *DEFAULT_SOURCES})
MULTI_TYPES = frozenset({"multiselect", "departments", "users", "agencies"})
STRING_TYPES = frozenset({"text", "textarea", "email"})
# WTForms and Flask-WTF put these names on every form object; a field called like that would hide them.
RESERVED_NAMES = frozenset(
    {
        "csrf_token",
        "data",
        "definition",
        "errors",
        "form_errors",
        "hidden_tag",
        "is_submitted",
        "meta",
        "populate_obj",
        "post_process",
        "process",
        "validate",
        "validate_on_submit",
        "extra_validators",
    }
)

FORM_KEYS = frozenset({"title", "description", "fields"})
FIELD_KEYS = frozenset(
    {
        "name",
        "label",
        "type",
        "required",
        "choices",
        "source",
        "filter_department_field",
        "min",
        "max",
        "min_length",
        "max_length",
        "pattern",
        "pattern_message",
        "help",
        "default",
        "required_if",
        "readonly",
        "placeholder",
    }
)
_CONDITION_RE = re.compile(r"\s*([a-z][a-z0-9_]*)\s*(?:(==|!=)\s*(.*?))?\s*\Z")


class FormDefinitionError(DomainError):
    """A form definition that cannot be used; ``problems`` lists every defect, each naming its field."""

    code = "form_definition_error"

    def __init__(self, key: str, problems: list[str]):
        super().__init__(f"Biểu mẫu «{key}» không hợp lệ.", details=problems)
        self.key = key
        self.problems = list(problems)


class FormNotFoundError(NotFoundError):
    code = "form_not_found"


@dataclass(frozen=True, slots=True)
class ChoiceInfo:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class ConditionInfo:
    """``field`` truthy, or ``field == value`` / ``field != value``; never evaluated with eval."""

    field: str
    operator: str  # "truthy", "==", "!="
    value: str | None = None

    def holds(self, data: Mapping[str, Any]) -> bool:
        current = data.get(self.field)
        if self.operator == "truthy":
            return _is_filled(current) and current is not False
        if not _is_filled(current):
            # "comment required when answer != agree" must not fire while answer is still unanswered.
            return False
        values = [_as_text(v) for v in current] if isinstance(current, list | tuple) else [_as_text(current)]
        return (self.value in values) == (self.operator == "==")

    def __str__(self) -> str:
        return self.field if self.operator == "truthy" else f"{self.field} {self.operator} {self.value}"


def _is_filled(value: Any) -> bool:
    return value not in (None, "", [], ()) and value is not False


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True, slots=True)
class FieldDef:
    name: str
    label: str
    type: str
    required: bool = False
    choices: tuple[ChoiceInfo, ...] = ()
    source: str | None = None
    filter_department_field: str | None = None
    min: int | None = None
    max: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_message: str | None = None
    help: str | None = None
    default: Any = None
    required_if: ConditionInfo | None = None
    readonly: bool = False
    placeholder: str | None = None

    @property
    def is_multi(self) -> bool:
        return self.type in MULTI_TYPES

    @property
    def has_choices(self) -> bool:
        return self.type in CHOICE_TYPES


@dataclass(frozen=True, slots=True)
class FormDefinition:
    key: str
    title: str
    description: str | None
    fields: tuple[FieldDef, ...]
    version_hash: str

    def field(self, name: str) -> FieldDef:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def has_files(self) -> bool:
        return any(f.type == "file" for f in self.fields)


# --- loading -----------------------------------------------------------------------------------------

_cache: dict[tuple[str, str], FormDefinition] = {}
_cache_lock = threading.Lock()
_CACHE_LIMIT = 1024


def known_form_keys(forms_dir: str | Path) -> set[str]:
    folder = Path(forms_dir)
    if not folder.is_dir():
        return set()
    return {p.stem for p in folder.glob("*.yaml") if FORM_KEY_RE.match(p.stem) and p.is_file()}


def load_form(key: str, forms_dir: str | Path) -> FormDefinition:
    if not isinstance(key, str) or not FORM_KEY_RE.match(key):
        raise FormNotFoundError("Không tìm thấy biểu mẫu.", log=f"invalid form key {key!r}")
    path = Path(forms_dir) / f"{key}.yaml"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FormNotFoundError(f"Không tìm thấy biểu mẫu «{key}».") from None
    digest = hashlib.sha256(raw).hexdigest()
    cache_key = (str(path.resolve()), digest)
    cached = _cache.get(cache_key)
    if cached is not None:
        return cached
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormDefinitionError(key, ["Tệp không phải văn bản UTF-8."]) from None
    definition = parse_form_definition(text, key)
    with _cache_lock:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[cache_key] = definition
    return definition


def load_all_forms(forms_dir: str | Path) -> dict[str, FormDefinition]:
    """Load every form; a broken file does not hide the others' problems."""
    loaded: dict[str, FormDefinition] = {}
    broken: list[str] = []
    problems: list[str] = []
    for key in sorted(known_form_keys(forms_dir)):
        try:
            loaded[key] = load_form(key, forms_dir)
        except FormDefinitionError as exc:
            broken.append(key)
            problems.extend(f"{key}.yaml: {p}" for p in exc.problems)
    if problems:
        raise FormDefinitionError(", ".join(broken), problems)
    return loaded


_UNSUPPORTED_YAML = ("Tệp YAML có cấu trúc không được hỗ trợ (ví dụ khóa là danh sách hoặc bảng); mỗi khóa phải là "
                     "một tên đơn giản.")


def parse_form_definition(text: str, key: str) -> FormDefinition:
    if not FORM_KEY_RE.match(key):
        raise FormDefinitionError(
            key, [f"Mã biểu mẫu «{key}» chỉ được gồm chữ thường không dấu, chữ số và dấu gạch dưới."]
        )
    size = len(text.encode("utf-8"))
    if size > MAX_DEFINITION_BYTES:
        raise FormDefinitionError(
            key, [f"Tệp quá lớn ({size // 1024} KB, tối đa {MAX_DEFINITION_BYTES // 1024} KB)."]
        )
    hazard = yaml_hazard(text)
    if hazard is not None:
        raise FormDefinitionError(key, [hazard])
    try:
        document = YAML(typ="safe", pure=True).load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" ở dòng {mark.line + 1}, cột {mark.column + 1}" if mark is not None else ""
        detail = exc.problem or exc.context or "cú pháp sai"
        raise FormDefinitionError(key, [f"Lỗi cú pháp YAML{where}: {detail}."]) from None
    except YAMLError as exc:
        raise FormDefinitionError(key, [f"Lỗi cú pháp YAML: {exc}."]) from None
    except (TypeError, ValueError, RecursionError):  # e.g. a list or a mapping as a key ("? - a")
        raise FormDefinitionError(key, [_UNSUPPORTED_YAML]) from None
    version_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return _Builder(key).build(document, version_hash)


class _Builder:
    """Turns the loaded YAML tree into a FormDefinition, collecting every problem before raising."""

    def __init__(self, key: str):
        self.key = key
        self.problems: list[str] = []

    def build(self, document: Any, version_hash: str) -> FormDefinition:
        if not isinstance(document, dict):
            raise FormDefinitionError(self.key, ["Tệp phải là một bảng khóa–giá trị (title, fields, …)."])
        for unknown in sorted(set(map(str, document)) - FORM_KEYS):
            self.problems.append(
                f"Khóa «{unknown}» không được hỗ trợ ở cấp biểu mẫu "
                f"(cho phép: {', '.join(sorted(FORM_KEYS))})."
            )
        title = self._text(document.get("title"), "Biểu mẫu: thiếu tiêu đề (title).")
        description = self._optional_text(document.get("description"), "Biểu mẫu: «description»")
        raw_fields = document.get("fields")
        fields: list[FieldDef] = []
        if not isinstance(raw_fields, list) or not raw_fields:
            self.problems.append("Biểu mẫu phải có danh sách trường (fields) không rỗng.")
        else:
            seen: set[str] = set()
            for index, raw in enumerate(raw_fields, start=1):
                field = self._field(raw, index)
                if field is None:
                    continue
                if field.name in seen:
                    self.problems.append(f"Trường «{field.name}»: tên bị trùng.")
                seen.add(field.name)
                fields.append(field)
            self._check_references(fields)
        if self.problems:
            raise FormDefinitionError(self.key, self.problems)
        return FormDefinition(
            key=self.key,
            title=title or "",
            description=description,
            fields=tuple(fields),
            version_hash=version_hash,
        )

    # -- one field --------------------------------------------------------------------------------------

    def _field(self, raw: Any, index: int) -> FieldDef | None:
        if not isinstance(raw, dict):
            self.problems.append(f"Trường thứ {index}: phải là một bảng khóa–giá trị (name, label, type, …).")
            return None
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            self.problems.append(f"Trường thứ {index}: thiếu tên (name).")
            return None
        where = f"Trường «{name}»"
        if not FIELD_NAME_RE.match(name):
            self.problems.append(
                f"{where}: tên không hợp lệ — chỉ dùng chữ thường không dấu, chữ số và dấu gạch dưới, "
                "bắt đầu bằng chữ cái."
            )
        elif name in RESERVED_NAMES:
            self.problems.append(f"{where}: tên «{name}» được hệ thống dành riêng, hãy đặt tên khác.")
        for unknown in sorted(set(map(str, raw)) - FIELD_KEYS):
            self.problems.append(f"{where}: khóa «{unknown}» không được hỗ trợ.")

        label = self._text(raw.get("label"), f"{where}: thiếu nhãn (label).")
        ftype = raw.get("type")
        if ftype not in FIELD_TYPES:
            self.problems.append(
                f"{where}: kiểu «{ftype}» không được hỗ trợ (các kiểu hợp lệ: {', '.join(FIELD_TYPES)})."
                if ftype is not None
                else f"{where}: thiếu kiểu (type)."
            )
            ftype = None

        required = self._bool(raw, "required", where)
        readonly = self._bool(raw, "readonly", where)
        choices = self._choices(raw.get("choices"), where)
        source = raw.get("source")
        if source is not None and source not in CHOICE_SOURCES:
            self.problems.append(
                f"{where}: nguồn lựa chọn «{source}» không tồn tại (cho phép: {', '.join(CHOICE_SOURCES)})."
            )
            source = None
        if ftype in CHOICE_TYPES:
            if source is None and not choices:
                source = DEFAULT_SOURCES.get(ftype)
                if source is None:
                    self.problems.append(
                        f"{where}: kiểu «{ftype}» cần danh sách lựa chọn (choices) hoặc nguồn (source)."
                    )
            elif source is not None and choices:
                self.problems.append(f"{where}: chỉ khai báo một trong hai: choices hoặc source.")
        elif ftype is not None and (choices or source is not None):
            self.problems.append(f"{where}: kiểu «{ftype}» không dùng choices/source.")

        filter_field = raw.get("filter_department_field")
        if filter_field is not None:
            if not isinstance(filter_field, str) or not FIELD_NAME_RE.match(filter_field):
                self.problems.append(f"{where}: filter_department_field phải là tên một trường.")
                filter_field = None
            elif source != "staff":
                self.problems.append(f"{where}: filter_department_field chỉ dùng với nguồn «staff».")

        minimum = self._int(raw, "min", where)
        maximum = self._int(raw, "max", where)
        min_length = self._int(raw, "min_length", where, non_negative=True)
        max_length = self._int(raw, "max_length", where, non_negative=True)
        if (minimum is not None or maximum is not None) and ftype not in (None, "integer"):
            self.problems.append(f"{where}: min/max chỉ dùng cho kiểu integer.")
        if minimum is not None and maximum is not None and minimum > maximum:
            self.problems.append(f"{where}: min ({minimum}) lớn hơn max ({maximum}).")
        if (min_length is not None or max_length is not None) and ftype not in (None, *STRING_TYPES):
            self.problems.append(f"{where}: min_length/max_length chỉ dùng cho kiểu text, textarea, email.")
        if min_length is not None and max_length is not None and min_length > max_length:
            self.problems.append(f"{where}: min_length ({min_length}) lớn hơn max_length ({max_length}).")

        pattern = self._pattern(raw.get("pattern"), where)
        if pattern is not None and ftype not in (None, *STRING_TYPES):
            self.problems.append(f"{where}: pattern chỉ dùng cho kiểu text, textarea, email.")
        pattern_message = self._optional_text(raw.get("pattern_message"), f"{where}: «pattern_message»")
        help_text = self._optional_text(raw.get("help"), f"{where}: «help»")
        placeholder = self._optional_text(raw.get("placeholder"), f"{where}: «placeholder»")
        required_if = self._condition(raw.get("required_if"), where)
        if required_if is not None and required:
            self.problems.append(f"{where}: không dùng đồng thời required và required_if.")
        default = self._default(raw.get("default"), ftype, choices, where)

        return FieldDef(
            name=name,
            label=label or "",
            type=ftype or "text",
            required=required,
            choices=choices,
            source=source,
            filter_department_field=filter_field,
            min=minimum,
            max=maximum,
            min_length=min_length,
            max_length=max_length,
            pattern=pattern,
            pattern_message=pattern_message,
            help=help_text,
            default=default,
            required_if=required_if,
            readonly=readonly,
            placeholder=placeholder,
        )

    def _check_references(self, fields: list[FieldDef]) -> None:
        names = {f.name for f in fields}
        for f in fields:
            if f.required_if is None:
                continue
            if f.required_if.field == f.name:
                self.problems.append(f"Trường «{f.name}»: required_if không được tham chiếu chính nó.")
            elif f.required_if.field not in names:
                self.problems.append(
                    f"Trường «{f.name}»: required_if tham chiếu trường «{f.required_if.field}» "
                    "không có trong biểu mẫu."
                )

    # -- value helpers ----------------------------------------------------------------------------------

    def _text(self, value: Any, missing: str) -> str | None:
        if isinstance(value, str) and value.strip():
            return nfc(value.strip())
        self.problems.append(missing)
        return None

    def _optional_text(self, value: Any, what: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.problems.append(f"{what} phải là chuỗi ký tự.")
            return None
        return nfc(value.strip()) or None

    def _bool(self, raw: dict, key: str, where: str) -> bool:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            self.problems.append(f"{where}: «{key}» phải là true hoặc false.")
            return False
        return value

    def _int(self, raw: dict, key: str, where: str, *, non_negative: bool = False) -> int | None:
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append(f"{where}: «{key}» phải là số nguyên.")
            return None
        if non_negative and value < 0:
            self.problems.append(f"{where}: «{key}» không được âm.")
            return None
        return value

    def _choices(self, value: Any, where: str) -> tuple[ChoiceInfo, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problems.append(f"{where}: choices phải là danh sách các mục {{value, label}}.")
            return ()
        result: list[ChoiceInfo] = []
        seen: set[str] = set()
        for position, item in enumerate(value, start=1):
            if not isinstance(item, dict) or set(map(str, item)) - {"value", "label"}:
                self.problems.append(
                    f"{where}: lựa chọn thứ {position} phải có đúng hai khóa value và label."
                )
                continue
            raw_value, label = item.get("value"), item.get("label")
            if isinstance(raw_value, bool) or not isinstance(raw_value, str | int) or str(raw_value) == "":
                self.problems.append(f"{where}: lựa chọn thứ {position} thiếu value.")
                continue
            if not isinstance(label, str) or not label.strip():
                self.problems.append(f"{where}: lựa chọn «{raw_value}» thiếu nhãn (label).")
                continue
            choice_value = nfc(str(raw_value))
            if choice_value in seen:
                self.problems.append(f"{where}: lựa chọn «{choice_value}» bị trùng.")
            seen.add(choice_value)
            result.append(ChoiceInfo(choice_value, nfc(label.strip())))
        return tuple(result)

    def _pattern(self, value: Any, where: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            self.problems.append(f"{where}: pattern phải là một biểu thức chính quy.")
            return None
        if len(value) > MAX_PATTERN_LENGTH:
            self.problems.append(f"{where}: pattern dài quá {MAX_PATTERN_LENGTH} ký tự.")
            return None
        try:
            re.compile(value)
        except re.error as exc:
            self.problems.append(f"{where}: pattern «{value}» không phải biểu thức chính quy hợp lệ ({exc}).")
            return None
        try:
            compile_pattern(value)
        except PatternError as exc:
            self.problems.append(f"{where}: pattern «{value}» không dùng được: {exc}.")
            return None
        return value

    def _condition(self, value: Any, where: str) -> ConditionInfo | None:
        if value is None:
            return None
        match = _CONDITION_RE.match(value) if isinstance(value, str) else None
        if match is None or (match.group(2) and not match.group(3)):
            self.problems.append(
                f"{where}: required_if «{value}» không hợp lệ — viết «tên_trường», "
                "«tên_trường == giá_trị» hoặc «tên_trường != giá_trị»."
            )
            return None
        field, operator, operand = match.groups()
        if operator is None:
            return ConditionInfo(field, "truthy")
        operand = operand.strip()
        if len(operand) >= 2 and operand[0] == operand[-1] and operand[0] in "'\"":
            operand = operand[1:-1]
        return ConditionInfo(field, operator, nfc(operand))

    def _default(self, value: Any, ftype: str | None, choices: tuple[ChoiceInfo, ...], where: str) -> Any:
        if value is None or ftype is None:
            return value
        ok: bool
        if ftype == "checkbox":
            ok = isinstance(value, bool)
        elif ftype == "integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif ftype == "date":
            ok = value == "today" or _is_iso_date(value)
            value = value.isoformat() if isinstance(value, dt.date) else value
        elif ftype in MULTI_TYPES:
            ok = isinstance(value, list) and all(isinstance(v, str | int) for v in value)
            value = [nfc(str(v)) for v in value] if ok else value
        elif ftype == "file":
            ok = False
        else:
            ok = isinstance(value, str | int) and not isinstance(value, bool)
            value = nfc(str(value)) if ok else value
        if ok and choices:
            allowed = {c.value for c in choices}
            wanted = value if isinstance(value, list) else [value]
            ok = all(v in allowed for v in wanted)
        if not ok:
            self.problems.append(f"{where}: giá trị mặc định «{value}» không hợp với kiểu «{ftype}».")
            return None
        return value


def _is_iso_date(value: Any) -> bool:
    if isinstance(value, dt.date):
        return True
    if not isinstance(value, str):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


# --- round-trip for the form editor ----------------------------------------------------------------


def _roundtrip_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long Vietnamese labels
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def format_yaml_roundtrip(text: str) -> str:
    """Load and dump ``text`` keeping comments, key order and quoting (what the form editor saves)."""
    hazard = yaml_hazard(text)
    if hazard is not None:
        raise FormDefinitionError("yaml", [hazard])
    yaml = _roundtrip_yaml()
    try:
        document = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" ở dòng {mark.line + 1}" if mark is not None else ""
        raise FormDefinitionError("yaml", [f"Lỗi cú pháp YAML{where}: {exc.problem}."]) from None
    except (YAMLError, TypeError, ValueError, RecursionError):
        raise FormDefinitionError("yaml", [_UNSUPPORTED_YAML]) from None
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()
