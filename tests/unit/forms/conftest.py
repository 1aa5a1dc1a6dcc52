from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from app.forms import FieldDef, build_form, parse_form_definition

FORMS_DIR = Path(__file__).resolve().parents[3] / "forms"


class FakeChoices:
    """What the app's ChoiceProvider would answer, recording each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.data = {
            "departments": [("1", "Văn phòng"), ("2", "Phòng Kế hoạch – Tài chính")],
            "staff": [("10", "Nguyễn Văn An"), ("11", "Trần Thị Bình")],
            "leaders": [("20", "Lê Hoàng Cường")],
            "agencies": [("isotttt", "Sở Thông tin và Truyền thông"), ("stp", "Sở Tư pháp")],
            "document_types": [("cong_van", "Công văn"), ("quyet_dinh", "Quyết định")],
        }

    def choices_for(self, source: str, field: FieldDef, context: Mapping[str, Any]) -> list[tuple[str, str]]:
        self.calls.append((source, field.name, dict(context)))
        return list(self.data[source])


@pytest.fixture
def provider() -> FakeChoices:
    return FakeChoices()


@pytest.fixture
def forms_dir() -> Path:
    return FORMS_DIR


@pytest.fixture
def submit(provider: FakeChoices):
    """Build a form from YAML text (or a definition) with POSTed values, validate it, return it."""

    def _submit(defn_or_text: Any, values: Mapping[str, Any] | list[tuple[str, Any]], **kwargs: Any):
        defn = parse_form_definition(defn_or_text, "t") if isinstance(defn_or_text, str) else defn_or_text
        form = build_form(defn, choices=provider, formdata=MultiDict(values), csrf=False, **kwargs)
        form.validate()
        return defn, form

    return _submit
