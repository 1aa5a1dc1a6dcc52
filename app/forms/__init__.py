"""Forms adapter: ``forms/<key>.yaml`` definitions, built into Flask-WTF forms, validated, rendered.

Imports only app.core; the app supplies dynamic choices through a ChoiceProvider (no database here).
"""

from .build import (
    ChoiceProvider,
    DynamicForm,
    build_form,
    cleaned_data,
    uploaded_files,
    validate_submission,
)
from .definitions import (
    ChoiceInfo,
    ConditionInfo,
    FieldDef,
    FormDefinition,
    FormDefinitionError,
    FormNotFoundError,
    format_yaml_roundtrip,
    known_form_keys,
    load_all_forms,
    load_form,
    parse_form_definition,
)
from .render import render_form, render_preview, render_readonly

__all__ = [
    "ChoiceInfo",
    "ChoiceProvider",
    "ConditionInfo",
    "DynamicForm",
    "FieldDef",
    "FormDefinition",
    "FormDefinitionError",
    "FormNotFoundError",
    "build_form",
    "cleaned_data",
    "format_yaml_roundtrip",
    "known_form_keys",
    "load_all_forms",
    "load_form",
    "parse_form_definition",
    "render_form",
    "render_preview",
    "render_readonly",
    "uploaded_files",
    "validate_submission",
]
