"""What a user asks for: the parsed search box and the filters, as plain frozen values.

The search box is untrusted text. It is folded (diacritics and case removed, like ``search_text``) and cut
into tokens of ``[a-z0-9]``; only those tokens ever reach the FTS syntax of either database, so quotes,
operators and column filters typed by the user are inert.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from app.core.text import fold, nfc

from .errors import SearchQueryError

MAX_QUERY_LENGTH = 200
MAX_TOKENS = 12
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_PAGE = 500
SORTS: dict[str, str] = {
    "relevance": "Phù hợp nhất",
    "date_desc": "Ngày văn bản mới nhất",
    "date_asc": "Ngày văn bản cũ nhất",
    "number": "Số văn bản",
}
DIRECTIONS: dict[str, str] = {"incoming": "Văn bản đến", "outgoing": "Văn bản đi"}
_TOKEN = re.compile(r"[a-z0-9]+")
_PART = re.compile(r'"([^"]*)"?|([^\s"]+)')


@dataclass(frozen=True)
class ParsedQuery:
    """Groups of adjacent tokens (a quoted phrase or one typed word like "15/QĐ-UBND"), all required.

    Words match whole: Vietnamese syllables are short, so prefix matching would mostly add noise (and on
    PostgreSQL a prefix of a common syllable turns one index probe into thousands).
    """

    groups: tuple[tuple[str, ...], ...] = ()

    @property
    def tokens(self) -> tuple[str, ...]:
        return tuple(t for g in self.groups for t in g)

    def __bool__(self) -> bool:
        return bool(self.groups)

    def pg_tsquery(self, prefix: str = "") -> str:
        """For ``to_tsquery('simple', …)``: phrases with <->, groups with &; lexemes carry ``prefix``."""
        return " & ".join(
            "(" + " <-> ".join(prefix + t for t in g) + ")" if len(g) > 1 else prefix + g[0] for g in self.groups)

    def fts5_query(self) -> str:
        """For SQLite FTS5 MATCH: every group a quoted phrase (tokens are [a-z0-9] only, so quoting is safe)."""
        return " AND ".join('"' + " ".join(g) + '"' for g in self.groups)


def parse_query(text: str | None) -> ParsedQuery:
    """Fold and tokenise the search box; raise SearchQueryError with a Vietnamese message when unusable."""
    raw = nfc(text or "").strip()
    if not raw:
        return ParsedQuery()
    if len(raw) > MAX_QUERY_LENGTH:
        raise SearchQueryError(
            f"Từ khóa tìm kiếm quá dài ({len(raw)} ký tự); hãy rút gọn còn tối đa {MAX_QUERY_LENGTH} ký tự.",
            field_errors={"q": [f"Tối đa {MAX_QUERY_LENGTH} ký tự."]},
        )
    groups: list[tuple[str, ...]] = []
    for quoted, bare in _PART.findall(raw):
        tokens = tuple(_TOKEN.findall(fold(quoted if quoted else bare)))
        if tokens and tokens not in groups:
            groups.append(tokens)
    if not groups:
        raise SearchQueryError(
            "Từ khóa tìm kiếm không có chữ hoặc số nào; hãy nhập ví dụ “quyết định” hoặc “15/QĐ-UBND”.",
            field_errors={"q": ["Hãy nhập chữ hoặc số."]},
        )
    count = sum(len(g) for g in groups)
    if count > MAX_TOKENS:
        raise SearchQueryError(
            f"Từ khóa có {count} từ; hãy tìm với tối đa {MAX_TOKENS} từ quan trọng nhất.",
            field_errors={"q": [f"Tối đa {MAX_TOKENS} từ."]},
        )
    return ParsedQuery(tuple(groups))


@dataclass(frozen=True)
class SearchCriteria:
    text: str = ""
    direction: str | None = None
    doc_type_id: int | None = None
    register_id: int | None = None
    department_id: int | None = None
    status: str | None = None
    issuer: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    parsed: ParsedQuery = field(default=ParsedQuery(), compare=False, repr=False)

    @property
    def has_filters(self) -> bool:
        return any(v not in (None, "") for v in (self.direction, self.doc_type_id, self.register_id,
                                                 self.department_id, self.status, self.issuer,
                                                 self.date_from, self.date_to))

    @property
    def effective_sort(self) -> str:
        return "date_desc" if self.sort == "relevance" and not self.parsed else self.sort

    def to_params(self, *, with_page: bool = False) -> dict[str, str]:
        """The criteria as query-string values (saved searches store these)."""
        values: dict[str, Any] = {
            "q": self.text, "direction": self.direction, "type": self.doc_type_id, "register": self.register_id,
            "department": self.department_id, "status": self.status, "issuer": self.issuer,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "sort": self.sort if self.sort != "relevance" else None,
        }
        if with_page and self.page > 1:
            values["page"] = self.page
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    def at_page(self, page: int) -> SearchCriteria:
        return replace(self, page=page)


def _int(params: Mapping[str, Any], name: str, label: str, errors: dict[str, list[str]]) -> int | None:
    raw = str(params.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        errors[name] = [f"{label} không hợp lệ."]
        return None
    return int(raw)


def _date(params: Mapping[str, Any], name: str, label: str, errors: dict[str, list[str]]) -> dt.date | None:
    raw = str(params.get(name) or "").strip()
    if not raw:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    errors[name] = [f"{label} phải có dạng ngày/tháng/năm, ví dụ 05/03/2026."]
    return None


def criteria_from_params(params: Mapping[str, Any]) -> SearchCriteria:
    """Build criteria from query-string values; every bad value is reported at once, in Vietnamese."""
    errors: dict[str, list[str]] = {}
    text = nfc(str(params.get("q") or "")).strip()
    parsed = ParsedQuery()
    message = ""
    try:
        parsed = parse_query(text)
    except SearchQueryError as exc:
        errors.update(exc.field_errors)
        message = exc.message
    direction = str(params.get("direction") or "").strip() or None
    if direction is not None and direction not in DIRECTIONS:
        errors["direction"] = ["Loại văn bản (đến/đi) không hợp lệ."]
    sort = str(params.get("sort") or "").strip() or "relevance"
    if sort not in SORTS:
        errors["sort"] = ["Cách sắp xếp không hợp lệ."]
    date_from = _date(params, "from", "Từ ngày", errors)
    date_to = _date(params, "to", "Đến ngày", errors)
    if date_from and date_to and date_from > date_to:
        errors["to"] = ["“Đến ngày” phải sau “Từ ngày”."]
    page = _int(params, "page", "Số trang", errors) or 1
    per_page = _int(params, "per_page", "Số dòng mỗi trang", errors) or DEFAULT_PER_PAGE
    status = str(params.get("status") or "").strip()[:32] or None
    issuer = nfc(str(params.get("issuer") or "")).strip()[:255] or None
    criteria = SearchCriteria(
        text=text, direction=direction, doc_type_id=_int(params, "type", "Loại văn bản", errors),
        register_id=_int(params, "register", "Sổ văn bản", errors),
        department_id=_int(params, "department", "Phòng ban", errors), status=status, issuer=issuer,
        date_from=date_from, date_to=date_to, sort=sort, page=max(1, min(page, MAX_PAGE)),
        per_page=max(1, min(per_page, MAX_PER_PAGE)), parsed=parsed,
    )
    if errors:
        first = next(iter(errors.values()))[0]
        raise SearchQueryError(message or "Không thể tìm với điều kiện đã nhập: " + first, field_errors=errors)
    return criteria
