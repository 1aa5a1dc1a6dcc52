"""Search through the service: diacritics and case ignored on both databases, filters, visibility, saved searches."""

from __future__ import annotations

import datetime as dt

import pytest

from app.core.errors import ValidationError
from app.documents import services as documents
from app.extensions import db
from app.search.criteria import criteria_from_params
from app.search.errors import SavedSearchNotFoundError, SearchQueryError
from app.search.queries import saved_searches, search_documents
from app.search.services import delete_saved_search, save_search
from tests.integration.documents.conftest import incoming_data


def _register(office, **data):
    doc = documents.register_incoming(office.agency_id, actor=office.actors["clerk"], data=incoming_data(**data))
    db.session.commit()
    return doc


def _ids(actor, **params):
    return [h.id for h in search_documents(actor, criteria_from_params(params)).hits]


@pytest.fixture
def corpus(office):
    o = office()
    docs = {
        "qd": _register(o, summary="Quyết định về việc phê duyệt kế hoạch chuyển đổi số năm 2026",
                        doc_type="quyet_dinh", number_notation="15/QĐ-UBND", issue_date=dt.date(2026, 3, 5)),
        "cv": _register(o, summary="V/v tăng cường phòng cháy chữa cháy mùa hanh khô",
                        number_notation="221/UBND-VX", issue_date=dt.date(2026, 10, 1),
                        issuer_name="Sở Tài chính"),
        "dn": _register(o, summary="Đề nghị cung cấp số liệu đường giao thông nông thôn",
                        number_notation="9/SGTVT-KH", issue_date=dt.date(2026, 6, 20)),
    }
    return o, docs


def test_diacritics_and_case_are_ignored(corpus):
    o, docs = corpus
    leader = o.actors["leader"]
    for q in ("quyet dinh", "Quyết định", "QUYẾT ĐỊNH", "QUYET DINH", "quyết dinh", "chuyen doi so"):
        assert _ids(leader, q=q) == [docs["qd"].id], q
    assert _ids(leader, q="duong giao thong") == [docs["dn"].id]  # đ is folded to d
    assert _ids(leader, q="Đường") == [docs["dn"].id]
    assert _ids(leader, q="hanh kho") == [docs["cv"].id]
    assert _ids(leader, q="phe duyet kho") == []  # every word must match


def test_number_notation_phrase_and_prefix(corpus):
    o, docs = corpus
    leader = o.actors["leader"]
    assert _ids(leader, q="15/QĐ-UBND") == [docs["qd"].id]
    assert _ids(leader, q="15/qd-ubnd") == [docs["qd"].id]
    assert _ids(leader, q='"ke hoach chuyen"') == [docs["qd"].id]
    assert _ids(leader, q='"chuyen ke hoach"') == []  # a quoted phrase keeps its order
    assert _ids(leader, q="phong chay chua cha") == []  # words match whole


def test_results_are_marked_where_the_words_are(corpus):
    o, _ = corpus
    result = search_documents(o.actors["leader"], criteria_from_params({"q": "quyet dinh"}))
    assert result.total == 1
    marked = [text for text, hit in result.hits[0].summary_marked if hit]
    assert marked == ["Quyết định"]


def test_filters_and_sorting(corpus):
    o, docs = corpus
    leader = o.actors["leader"]
    assert _ids(leader, direction="incoming", sort="date_desc") == [docs["cv"].id, docs["dn"].id, docs["qd"].id]
    assert _ids(leader, direction="incoming", sort="date_asc") == [docs["qd"].id, docs["dn"].id, docs["cv"].id]
    assert _ids(leader, **{"from": "2026-06-01", "to": "30/06/2026"}) == [docs["dn"].id]
    assert _ids(leader, issuer="Sở Tài chính") == [docs["cv"].id]
    assert _ids(leader, direction="outgoing") == []
    qd_type = db.session.scalar(db.text("select id from document_type where code = 'quyet_dinh'"))
    assert _ids(leader, type=str(qd_type)) == [docs["qd"].id]


def test_pagination_counts_everything_and_pages_in_order(corpus):
    o, docs = corpus
    first = search_documents(o.actors["leader"], criteria_from_params({"direction": "incoming", "per_page": "2"}))
    second = search_documents(o.actors["leader"],
                              criteria_from_params({"direction": "incoming", "per_page": "2", "page": "2"}))
    assert (first.total, first.pages, second.page) == (3, 2, 2)
    assert len(first.hits) == 2 and len(second.hits) == 1
    assert {h.id for h in first.hits + second.hits} == {d.id for d in docs.values()}


def test_nobody_finds_another_agencys_or_another_persons_documents(corpus, office):
    o, docs = corpus
    other = office()
    _register(other, summary="Quyết định về việc phê duyệt kế hoạch chuyển đổi số năm 2026")
    assert _ids(o.actors["leader"], q="quyet dinh") == [docs["qd"].id]
    assert len(_ids(other.actors["leader"], q="quyet dinh")) == 1
    assert _ids(other.actors["leader"], q="phong chay") == []
    # A specialist of another department, with no task on these documents, finds none of them.
    assert _ids(o.actors["outsider"], q="quyet dinh") == []
    assert _ids(o.actors["outsider"], direction="incoming") == []


@pytest.mark.parametrize("q", ['"', "' OR 1=1 --", "quyet\" OR dinh", "NEAR(quyet dinh)", "quyet* dinh:*",
                               "a & b | !c", "{qd}:(x)", "quyet AND NOT dinh", "%_%", "\\\\x00"])
def test_search_syntax_typed_by_users_is_inert(corpus, q):
    o, _ = corpus
    try:
        result = search_documents(o.actors["leader"], criteria_from_params({"q": q}))
    except SearchQueryError as exc:
        assert "chữ hoặc số" in exc.message
    else:
        assert result.total >= 0


def test_empty_long_and_bad_input_give_vietnamese_messages():
    with pytest.raises(SearchQueryError, match="không có chữ hoặc số"):
        criteria_from_params({"q": "!!! ??"})
    with pytest.raises(SearchQueryError, match="quá dài"):
        criteria_from_params({"q": "quyết định " * 40})
    with pytest.raises(SearchQueryError, match="tối đa 12 từ"):
        criteria_from_params({"q": " ".join(f"tu{i}" for i in range(13))})
    with pytest.raises(ValidationError, match="ngày/tháng/năm"):
        criteria_from_params({"q": "x", "from": "hôm qua"})


def test_saved_searches_belong_to_their_owner(corpus):
    o, _ = corpus
    clerk, leader = o.actors["clerk"], o.actors["leader"]
    saved = save_search(clerk, "Quyết định chuyển đổi số", criteria_from_params({"q": "quyet dinh", "sort": "number"}))
    db.session.commit()
    assert [s.name for s in saved_searches(clerk)] == ["Quyết định chuyển đổi số"]
    assert saved.params == {"q": "quyet dinh", "sort": "number"}
    assert saved_searches(leader) == []
    with pytest.raises(SavedSearchNotFoundError):
        delete_saved_search(leader, saved.id)
    save_search(clerk, "Quyết định chuyển đổi số", criteria_from_params({"q": "chuyen doi"}))  # same name: updated
    assert [s.params for s in saved_searches(clerk)] == [{"q": "chuyen doi"}]
    delete_saved_search(clerk, saved.id)
    db.session.commit()
    assert saved_searches(clerk) == []
