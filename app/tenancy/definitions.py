"""agencies/*.yaml: parse into frozen dataclasses, and write back with ruamel.yaml round-trip."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from app.core.text import nfc_any
from app.core.yamlsafe import yaml_hazard

from .errors import AgencyDefinitionError

CODE_RE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
MAX_FILE_BYTES = 512 * 1024


@dataclass(frozen=True)
class DepartmentDef:
    code: str
    name: str
    abbreviation: str | None
    children: tuple[DepartmentDef, ...] = ()


@dataclass(frozen=True)
class PositionDef:
    code: str
    name: str
    role: str | None


@dataclass(frozen=True)
class AgencyDef:
    code: str
    name: str
    short_name: str | None
    abbreviation: str
    governing_body: str | None
    domain: str
    org_identifier: str | None
    kind: str
    place: str | None
    is_central: bool
    numbering_policy: str
    positions: tuple[PositionDef, ...]
    departments: tuple[DepartmentDef, ...]

    def walk_departments(self) -> Iterator[tuple[DepartmentDef, str | None, int]]:
        """Yield (department, parent code, sort order) depth-first."""

        def walk(
            items: tuple[DepartmentDef, ...], parent: str | None
        ) -> Iterator[tuple[DepartmentDef, str | None, int]]:
            for order, d in enumerate(items):
                yield d, parent, order
                yield from walk(d.children, d.code)

        yield from walk(self.departments, None)


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 120
    return y


def _required(data: dict[str, Any], key: str, where: str, problems: list[str]) -> Any:
    value = data.get(key)
    if value in (None, ""):
        problems.append(f"{where}: thiếu khóa bắt buộc “{key}”")
    return value


def _departments(items: Any, where: str, problems: list[str], seen: set[str]) -> tuple[DepartmentDef, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        problems.append(f"{where}: “departments” phải là một danh sách")
        return ()
    out = []
    for i, item in enumerate(items):
        here = f"{where} > phòng ban thứ {i + 1}"
        if not isinstance(item, dict):
            problems.append(f"{here}: phải là một bảng khóa/giá trị")
            continue
        code = str(_required(item, "code", here, problems) or "")
        name = _required(item, "name", here, problems)
        if code and not CODE_RE.match(code):
            problems.append(f"{here}: mã “{code}” chỉ được gồm chữ thường không dấu, số, '-' và '_'")
        if code in seen:
            problems.append(f"{here}: mã phòng ban “{code}” bị trùng")
        seen.add(code)
        children = _departments(item.get("children"), f"{where} > {code}", problems, seen)
        out.append(DepartmentDef(code=code, name=str(name or ""), abbreviation=item.get("abbreviation"),
                                 children=children))
    return tuple(out)


def parse_agency(text: str, *, source: str = "<yaml>") -> AgencyDef:
    """Parse one agency file; every problem is collected and reported at once."""
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise AgencyDefinitionError(f"Tệp {source} quá lớn (tối đa 512 KB).")
    hazard = yaml_hazard(text)
    if hazard is not None:
        raise AgencyDefinitionError(f"Tệp {source}: {hazard}")
    try:
        raw = YAML(typ="safe").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (dòng {mark.line + 1})" if mark else ""
        raise AgencyDefinitionError(f"Tệp {source} không đúng cú pháp YAML{line}.") from exc
    except (TypeError, ValueError, RecursionError) as exc:  # e.g. a list as a key
        raise AgencyDefinitionError(f"Tệp {source} có cấu trúc YAML không được hỗ trợ.") from exc
    if not isinstance(raw, dict):
        raise AgencyDefinitionError(f"Tệp {source} phải là một bảng khóa/giá trị.")
    data = nfc_any(raw)
    problems: list[str] = []
    code = str(_required(data, "code", source, problems) or "")
    if code and not CODE_RE.match(code):
        problems.append(f"{source}: mã cơ quan “{code}” không hợp lệ")
    name = _required(data, "name", source, problems)
    abbreviation = _required(data, "abbreviation", source, problems)
    domain = str(_required(data, "domain", source, problems) or "").lower()
    registers = data.get("registers") or {}
    numbering = registers.get("numbering", "single") if isinstance(registers, dict) else "single"
    if numbering not in ("single", "per_type"):
        problems.append(f"{source}: registers.numbering phải là single hoặc per_type")
    positions = []
    for i, p in enumerate(data.get("positions") or []):
        here = f"{source} > chức vụ thứ {i + 1}"
        if not isinstance(p, dict):
            problems.append(f"{here}: phải là một bảng khóa/giá trị")
            continue
        pcode = str(_required(p, "code", here, problems) or "")
        pname = _required(p, "name", here, problems)
        positions.append(PositionDef(code=pcode, name=str(pname or ""), role=p.get("role")))
    departments = _departments(data.get("departments"), source, problems, set())
    if problems:
        raise AgencyDefinitionError(f"Tệp {source} có {len(problems)} lỗi.", details=problems)
    return AgencyDef(
        code=code,
        name=str(name),
        short_name=data.get("short_name"),
        abbreviation=str(abbreviation),
        governing_body=data.get("governing_body"),
        domain=domain,
        org_identifier=data.get("org_identifier"),
        kind=str(data.get("kind") or "department"),
        place=data.get("place"),
        is_central=bool(data.get("central", False)),
        numbering_policy=numbering,
        positions=tuple(positions),
        departments=departments,
    )


def load_agency_files(directory: Path) -> list[AgencyDef]:
    return [parse_agency(p.read_text(encoding="utf-8"), source=p.name) for p in sorted(directory.glob("*.yaml"))]


# --- write-back -------------------------------------------------------------------------------------------


def _sync_scalar(node: CommentedMap, key: str, value: Any) -> None:
    if key in node:
        if node[key] != value:
            node[key] = value
    elif value is not None:
        node[key] = value


def _sync_list(node: CommentedMap, key: str, wanted: list[dict[str, Any]], sync_item: Any) -> None:
    """Update items by code in place (keeping their comments), append new ones, drop removed ones."""
    seq = node.get(key)
    if not isinstance(seq, CommentedSeq):
        seq = CommentedSeq()
        node[key] = seq
    by_code = {item.get("code"): item for item in seq if isinstance(item, CommentedMap)}
    result = CommentedSeq()
    for want in wanted:
        item = by_code.get(want["code"]) or CommentedMap()
        sync_item(item, want)
        result.append(item)
    # Rebuild the sequence in the wanted order but keep item objects (and their comments).
    while len(seq):
        seq.pop()
    seq.extend(result)


def _sync_department(item: CommentedMap, want: dict[str, Any]) -> None:
    for k in ("code", "name", "abbreviation"):
        _sync_scalar(item, k, want.get(k))
    children = want.get("children") or []
    if children or "children" in item:
        if not children:
            del item["children"]
        else:
            _sync_list(item, "children", children, _sync_department)


def _sync_position(item: CommentedMap, want: dict[str, Any]) -> None:
    for k in ("code", "name", "role"):
        if k in item or want.get(k) is not None:
            item[k] = want.get(k)


def render_agency_yaml(existing_text: str | None, snapshot: dict[str, Any]) -> str:
    """Write ``snapshot`` (the DB state) over ``existing_text``, keeping comments and key order."""
    y = _yaml()
    doc = y.load(existing_text) if existing_text else CommentedMap()
    if not isinstance(doc, CommentedMap):
        doc = CommentedMap()
    for key in ("code", "name", "short_name", "abbreviation", "governing_body", "domain", "org_identifier",
                "kind", "place"):
        _sync_scalar(doc, key, snapshot.get(key))
    if snapshot.get("central") or "central" in doc:
        _sync_scalar(doc, "central", bool(snapshot.get("central")))
    registers = doc.get("registers")
    if not isinstance(registers, CommentedMap):
        registers = CommentedMap()
        doc["registers"] = registers
    _sync_scalar(registers, "numbering", snapshot.get("numbering", "single"))
    _sync_list(doc, "positions", snapshot.get("positions", []), _sync_position)
    _sync_list(doc, "departments", snapshot.get("departments", []), _sync_department)
    buf = io.StringIO()
    y.dump(doc, buf)
    return buf.getvalue()
