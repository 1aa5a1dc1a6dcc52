"""Dossier pages over HTTP: create, file from the document page's macro, close, export, permissions."""

from __future__ import annotations

import re

from app.documents import services as documents
from app.extensions import db
from tests.integration.documents.conftest import incoming_data


def test_create_file_close_and_export(office, logged_in):
    o = office()
    doc = documents.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data(
        summary="Kế hoạch lưu trữ hồ sơ điện tử"))
    db.session.commit()
    clerk = logged_in(o.accounts["clerk"])
    resp = clerk.form_post("/dossiers/new", {"title": "Hồ sơ lưu trữ điện tử", "retention": "20", "access": "noi_bo"},
                           from_page="/dossiers/")
    assert resp.status_code == 302
    dossier_id = int(re.search(r"/dossiers/(\d+)", resp.headers["Location"]).group(1))
    resp = clerk.form_post("/dossiers/file", {"dossier_id": dossier_id, "document_id": doc.id,
                                              "next": "https://evil.example/"}, from_page="/dossiers/")
    assert resp.headers["Location"].endswith(f"/dossiers/{dossier_id}")  # never an open redirect
    page = clerk.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    assert "Kế hoạch lưu trữ hồ sơ điện tử" in page and "Hồ sơ lưu trữ điện tử" in page
    assert clerk.form_post(f"/dossiers/{dossier_id}/close", {}, from_page=f"/dossiers/{dossier_id}").status_code == 302
    assert "Đã đóng" in clerk.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    xml = clerk.get(f"/dossiers/{dossier_id}/export.xml")
    assert xml.mimetype == "application/xml" and "Hồ sơ lưu trữ điện tử".encode() in xml.data
    assert clerk.get(f"/dossiers/{dossier_id}/export.pdf").data.startswith(b"%PDF")
    listing = clerk.get("/dossiers/").get_data(as_text=True)
    assert "Hồ sơ lưu trữ điện tử" in listing and "20 năm" in listing


def test_file_into_macro_renders_for_the_document(office, logged_in, app):
    o = office()
    doc = documents.register_incoming(o.agency_id, actor=o.actors["clerk"], data=incoming_data())
    db.session.commit()
    clerk = logged_in(o.accounts["clerk"])
    resp = clerk.form_post("/dossiers/new", {"title": "Hồ sơ nhận văn bản", "retention": "10"}, from_page="/dossiers/")
    assert resp.status_code == 302, resp.get_data(as_text=True)[-800:]
    with app.test_request_context("/", base_url=f"http://{o.accounts['clerk'].host}"):
        from flask import g, render_template_string

        from app.extensions import appbuilder

        g.user = appbuilder.sm.get_user_by_id(o.accounts["clerk"].user_id)
        from app.tenancy.queries import agency_by_code

        g.agency = agency_by_code(o.code)
        macro = "{% from 'dossiers/_file_into.html' import file_into %}{{ file_into(doc_id, '/x') }}"
        html = render_template_string(macro, doc_id=doc.id)
    assert "Hồ sơ nhận văn bản" in html and f'name="document_id" value="{doc.id}"' in html


def test_another_agency_and_another_person_get_not_found(office, logged_in):
    o, other = office(), office()
    specialist = logged_in(o.accounts["specialist"])
    resp = specialist.form_post("/dossiers/new", {"title": "Hồ sơ riêng về đề án 06", "retention": "5"},
                                from_page="/dossiers/")
    dossier_id = int(re.search(r"/dossiers/(\d+)", resp.headers["Location"]).group(1))
    assert logged_in(o.accounts["outsider"]).get(f"/dossiers/{dossier_id}").status_code == 404
    assert logged_in(other.accounts["clerk"]).get(f"/dossiers/{dossier_id}").status_code == 404
    assert logged_in(other.accounts["clerk"]).get(f"/dossiers/{dossier_id}/export.xml").status_code == 404
    assert "Hồ sơ riêng về đề án 06" not in logged_in(o.accounts["outsider"]).get("/dossiers/").get_data(as_text=True)
