"""The search pages over HTTP: the box in the banner, results with marks, saved searches, permissions."""

from __future__ import annotations

import datetime as dt

from app.documents import services as documents
from app.extensions import db
from tests.integration.documents.conftest import incoming_data


def test_results_page_marks_words_and_never_shows_other_agencies(office, logged_in):
    o, other = office(), office()
    documents.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(
        summary="Quyết định phê duyệt kế hoạch chuyển đổi số", issue_date=dt.date(2026, 11, 3)))
    documents.register_incoming(other.agency_id, actor=other.actors["clerk"], data=incoming_data(
        summary="Quyết định của cơ quan khác về chuyển đổi số"))
    db.session.commit()
    c = logged_in(o.accounts["clerk"])
    body = c.get("/search/?q=QUYET+DINH").get_data(as_text=True)
    assert "<mark>Quyết định</mark> phê duyệt" in body
    assert "cơ quan khác" not in body
    assert "1 văn bản phù hợp" in body
    assert 'class="qlvb-searchbox"' in c.get("/").get_data(as_text=True)  # the box in the banner
    outsider = logged_in(o.accounts["outsider"]).get("/search/?q=quyet+dinh").get_data(as_text=True)
    assert "Quyết định phê duyệt" not in outsider and "0 văn bản phù hợp" in outsider


def test_bad_query_gives_a_vietnamese_message(office, logged_in):
    c = logged_in(office().accounts["clerk"])
    resp = c.get("/search/?q=%21%21%21")
    assert resp.status_code == 200
    assert "không có chữ hoặc số" in resp.get_data(as_text=True)


def test_saved_search_round_trip_and_privacy(office, logged_in):
    o = office()
    clerk = logged_in(o.accounts["clerk"])
    resp = clerk.form_post("/search/save", {"q": "chuyển đổi số", "direction": "incoming", "name": "Chuyển đổi số"},
                           from_page="/search/?q=x")
    assert resp.status_code == 302
    assert "Chuyển đổi số</a>" in clerk.get("/search/").get_data(as_text=True)
    assert "Chuyển đổi số</a>" not in logged_in(o.accounts["leader"]).get("/search/").get_data(as_text=True)


def test_anonymous_is_sent_to_login(office, client_for):
    o = office()
    resp = client_for(o.accounts["clerk"].host).get("/search/?q=x")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
