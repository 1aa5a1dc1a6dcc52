"""Versioned form definitions: the runtime's lookup and the form editor's services.

An agency's newest published version of a form wins, else the newest version SoICT published for
everyone, else the shipped file ``forms/<key>.yaml``. app.forms stays free of the database: this module
reads the text from the table and hands it to app.forms to parse, preview and round-trip.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup
from sqlalchemy import func, select

from app.core import clock, revisions
from app.core.errors import NotFoundError, ValidationError
from app.core.text import nfc
from app.extensions import db
from app.forms import (
    FormDefinition,
    FormDefinitionError,
    format_yaml_roundtrip,
    known_form_keys,
    parse_form_definition,
    render_preview,
)
from app.forms.definitions import FORM_KEY_RE

from .audit import record_change
from .models import FormVersion


@dataclass(frozen=True)
class FormSourceInfo:
    key: str
    title: str
    source: str  # "file" | "shipped" | "agency"
    number: int | None
    yaml_text: str
    sha256: str


@dataclass(frozen=True)
class FormVersionInfo:
    id: int
    agency_id: int | None
    key: str
    number: int
    sha256: str
    note: str
    created_at: object
    created_by_id: int | None


def _info(row: FormVersion) -> FormVersionInfo:
    return FormVersionInfo(row.id, row.agency_id, row.key, row.number, row.sha256, row.note, row.created_at,
                           row.created_by_id)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _newest(agency_id: int | None, key: str) -> FormVersion | None:
    owner = FormVersion.agency_id.is_(None) if agency_id is None else FormVersion.agency_id == agency_id
    return db.session.scalar(
        select(FormVersion).where(owner, FormVersion.key == key).order_by(FormVersion.number.desc()).limit(1)
    )


def form_keys(agency_id: int | None, forms_dir: str | Path) -> set[str]:
    """Every form a diagram of this owner may name: shipped files plus published versions it can see."""
    visible = FormVersion.agency_id.is_(None)
    if agency_id is not None:
        visible = visible | (FormVersion.agency_id == agency_id)
    return set(known_form_keys(forms_dir)) | set(db.session.scalars(select(FormVersion.key).where(visible).distinct()))


def effective_source(agency_id: int | None, key: str, forms_dir: str | Path) -> FormSourceInfo:
    if not isinstance(key, str) or not FORM_KEY_RE.match(key):
        raise NotFoundError("Không tìm thấy biểu mẫu.")
    for owner, source in ((agency_id, "agency"), (None, "shipped")):
        if owner is None and source == "agency":
            continue
        row = _newest(owner, key)
        if row is not None:
            return FormSourceInfo(key, _title(row.yaml_text, key), source, row.number, row.yaml_text, row.sha256)
    path = Path(forms_dir) / f"{key}.yaml"
    if not path.is_file():
        raise NotFoundError(f"Không tìm thấy biểu mẫu «{key}».")
    text = path.read_text(encoding="utf-8")
    return FormSourceInfo(key, _title(text, key), "file", None, text, _sha(text))


_parsed: dict[str, FormDefinition] = {}
_parsed_lock = threading.Lock()


def _parse(text: str, key: str) -> FormDefinition:
    cache_key = f"{key}:{_sha(text)}"
    hit = _parsed.get(cache_key)
    if hit is None:
        hit = parse_form_definition(text, key)
        with _parsed_lock:
            if len(_parsed) > 512:
                _parsed.clear()
            _parsed[cache_key] = hit
    return hit


# (agency, key) -> the text of the newest published version it sees, or None (the shipped file then): valid
# while the "forms" revision stands, so a version published on one node is used by every node at once.
_PUBLISHED = revisions.DefinitionCache("forms", maxsize=4096)


def _published_text(agency_id: int | None, key: str) -> str | None:
    for owner in ((agency_id, None) if agency_id is not None else (None,)):
        row = _newest(owner, key)
        if row is not None:
            return row.yaml_text
    return None


def effective_form(agency_id: int | None, key: str, forms_dir: str | Path) -> FormDefinition:
    """The definition the runtime must use for this agency (what task pages should call)."""
    if not isinstance(key, str) or not FORM_KEY_RE.match(key):
        raise NotFoundError("Không tìm thấy biểu mẫu.")
    text = _PUBLISHED.get((agency_id, key), lambda: _published_text(agency_id, key))
    if text is None:
        path = Path(forms_dir) / f"{key}.yaml"
        if not path.is_file():
            raise NotFoundError(f"Không tìm thấy biểu mẫu «{key}».")
        text = path.read_text(encoding="utf-8")
    return _parse(text, key)


def _title(text: str, key: str) -> str:
    try:
        return _parse(text, key).title
    except FormDefinitionError:
        return key


def catalog(agency_id: int | None, forms_dir: str | Path) -> list[FormSourceInfo]:
    out = []
    for key in sorted(form_keys(agency_id, forms_dir)):
        try:
            out.append(effective_source(agency_id, key, forms_dir))
        except NotFoundError:
            continue
    return out


def preview(yaml_text: str, key: str) -> Markup:
    """The rendered form, or FormDefinitionError listing every problem of the definition."""
    return render_preview(parse_form_definition(nfc(yaml_text or ""), key))


def publish_form(agency_id: int | None, key: str, yaml_text: str, note: str, *, by_user_id: int | None,
                 forms_dir: str | Path) -> FormVersionInfo:
    """Check the definition, write it back through the YAML round-trip (comments kept) and publish it."""
    if not isinstance(key, str) or not FORM_KEY_RE.match(key):
        raise ValidationError("Mã biểu mẫu chỉ gồm chữ thường không dấu, chữ số và dấu gạch dưới, bắt đầu bằng chữ",
                              field_errors={"key": ["Mã biểu mẫu không hợp lệ"]})
    note = nfc((note or "").strip())
    if not note:
        raise ValidationError("Hãy ghi nội dung thay đổi trước khi ban hành biểu mẫu",
                              field_errors={"note": ["Bắt buộc nhập nội dung thay đổi"]})
    text = format_yaml_roundtrip(nfc(yaml_text or ""))
    title = parse_form_definition(text, key).title
    try:
        before = effective_source(agency_id, key, forms_dir)
    except NotFoundError:
        before = None
    if before is not None and before.sha256 == _sha(text):
        raise ValidationError("Biểu mẫu không có thay đổi nào so với phiên bản đang dùng")
    owner = FormVersion.agency_id.is_(None) if agency_id is None else FormVersion.agency_id == agency_id
    number = (db.session.scalar(select(func.max(FormVersion.number)).where(owner, FormVersion.key == key)) or 0) + 1
    row = FormVersion(agency_id=agency_id, key=key, number=number, yaml_text=text, sha256=_sha(text),
                      created_by_id=by_user_id, created_at=clock.now(), note=note[:2000])
    db.session.add(row)
    db.session.flush()
    record_change(
        agency_id=agency_id, actor_id=by_user_id, area="form", action="publish" if before else "create", subject=key,
        summary=f"Biểu mẫu «{title}» phiên bản số {number}: {note}",
        before={"source": before.source, "number": before.number, "yaml": before.yaml_text} if before else None,
        after={"number": number, "yaml": text},
    )
    return _info(row)


def form_versions(agency_id: int | None, key: str) -> list[FormVersionInfo]:
    owner = FormVersion.agency_id.is_(None) if agency_id is None else FormVersion.agency_id == agency_id
    return [_info(r) for r in db.session.scalars(
        select(FormVersion).where(owner, FormVersion.key == key).order_by(FormVersion.number.desc())
    )]
