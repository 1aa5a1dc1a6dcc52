"""Parsing the search box: folding, grouping, safe FTS syntax on both databases, Vietnamese errors."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.search.criteria import MAX_QUERY_LENGTH, ParsedQuery, criteria_from_params, parse_query
from app.search.errors import SearchQueryError
from app.search.highlight import highlight


def test_words_are_folded_and_grouped():
    parsed = parse_query("Quyết định 15/QĐ-UBND")
    assert parsed.groups == (("quyet",), ("dinh",), ("15", "qd", "ubnd"))
    assert parsed.pg_tsquery() == "quyet & dinh & (15 <-> qd <-> ubnd)"
    assert parsed.fts5_query() == '"quyet" AND "dinh" AND "15 qd ubnd"'


def test_quoted_phrases_and_duplicates():
    assert parse_query('"kế hoạch" Kế hoạch "ke hoach"').groups == (("ke", "hoach"), ("ke",), ("hoach",))
    assert parse_query('"chuyển đổi số').groups == (("chuyen", "doi", "so"),)  # an unclosed quote still works


def test_empty_is_no_query_and_junk_is_an_error():
    assert not parse_query("   ")
    with pytest.raises(SearchQueryError, match="không có chữ hoặc số"):
        parse_query("«»—!?")


def test_length_and_word_limits():
    with pytest.raises(SearchQueryError, match="quá dài"):
        parse_query("a" * (MAX_QUERY_LENGTH + 1))
    with pytest.raises(SearchQueryError, match="tối đa 12 từ"):
        parse_query("một hai ba bốn năm sáu bảy tám chín mười trăm nghìn triệu")


@given(st.text(max_size=MAX_QUERY_LENGTH))
def test_any_input_yields_only_safe_tokens(text):
    try:
        parsed = parse_query(text)
    except SearchQueryError:
        return
    for token in parsed.tokens:
        assert re.fullmatch(r"[a-z0-9]+", token)
    assert re.fullmatch(r'(("[a-z0-9 ]+")( AND "[a-z0-9 ]+")*)?', parsed.fts5_query())
    assert re.fullmatch(r"[a-z0-9 &<>()-]*", parsed.pg_tsquery())


def test_criteria_round_trip_through_params():
    params = {"q": "quyết định", "direction": "incoming", "type": "3", "from": "01/03/2026", "to": "2026-03-31",
              "sort": "date_desc", "issuer": "Sở Tài chính"}
    criteria = criteria_from_params(params)
    assert criteria_from_params(criteria.to_params()) == criteria
    assert criteria.to_params()["from"] == "2026-03-01"


def test_bad_filters_are_all_reported():
    with pytest.raises(SearchQueryError) as info:
        criteria_from_params({"q": "x", "direction": "sideways", "from": "31/02/2026", "sort": "random", "type": "a"})
    assert set(info.value.field_errors) == {"direction", "from", "sort", "type"}


def test_relevance_without_words_sorts_by_date():
    assert criteria_from_params({"direction": "incoming"}).effective_sort == "date_desc"
    assert criteria_from_params({"q": "x"}).effective_sort == "relevance"


def test_highlight_keeps_diacritics_and_whole_words():
    pieces = highlight("Quyết định về việc ĐƯỜNG giao thông; quyết", parse_query("quyet dinh duong"))
    assert [t for t, hit in pieces if hit] == ["Quyết định", "ĐƯỜNG", "quyết"]
    assert "".join(t for t, _ in pieces) == "Quyết định về việc ĐƯỜNG giao thông; quyết"
    assert [t for t, hit in highlight("quyết định", parse_query("quy")) if hit] == []


def test_highlight_without_query_returns_the_text():
    assert highlight("Văn bản", ParsedQuery()) == [("Văn bản", False)]
    assert highlight("", parse_query("x")) == []
