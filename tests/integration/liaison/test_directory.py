"""The directory of organisations outside the deployment: SoICT imports a list (all or nothing, each wrong row
named), a clerk then picks "Bộ Nội vụ" among the recipients, and the delivery carries its name, not a bare code."""

from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import select

from app.documents import deliveries
from app.extensions import db
from app.liaison.models import ExternalOrgan
from app.web.choices import AgencyChoices
from app.workflow import services as wf
from tests.integration.documents.test_outgoing import _draft, _task, _to_signature

CSV = ("Mã định danh,Tên cơ quan,Cơ quan chủ quản\n"
       "000.00.00.G10,Bộ Nội vụ,Chính phủ\n"
       "000.00.00.G12,Bộ Tài chính,Chính phủ\n").encode("utf-8-sig")


def _names() -> dict[str, tuple[str, bool]]:
    return {o.organ_id: (o.name, o.active) for o in db.session.scalars(select(ExternalOrgan))}


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_soict_imports_the_directory_all_or_nothing_from_the_console(app, make_account, logged_in, tmp_path) -> None:
    soict = logged_in(make_account("qlvb", ["soict_admin"]))
    page = soict.get("/directory/")
    assert page.status_code == 200 and "Danh bạ liên thông" in page.get_data(as_text=True)
    bad = _xlsx([["Mã định danh", "Tên cơ quan"], ["000.00.00.G10", "Bộ Nội vụ"], ["12345", "Sai mã"],
                 ["000.00.00.G10", "Trùng"], ["000.00.00.G14", ""]])
    refused = soict.form_post("/directory/", {"file": (io.BytesIO(bad), "danh-ba.xlsx")},
                              content_type="multipart/form-data")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "Tệp danh bạ có 3 lỗi; chưa nhập dòng nào." in text
    assert "Dòng 3: mã định danh «12345» không đúng dạng" in text
    assert "Dòng 4: mã định danh 000.00.00.G10 đã có ở dòng 2." in text and "Dòng 5: thiếu tên cơ quan." in text
    assert "000.00.00.G10" not in _names()
    done = soict.form_post("/directory/", {"file": (io.BytesIO(CSV), "danh-ba.csv")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "Đã nhập danh bạ: 2 mới, 0 cập nhật" in done.get_data(as_text=True)
    assert _names()["000.00.00.G10"] == ("Bộ Nội vụ", True)
    # The whole list again without the ministry of finance: it stops, it is never deleted.
    path = tmp_path / "full.csv"
    path.write_bytes("Mã định danh,Tên cơ quan\n000.00.00.G10,Bộ Nội vụ\n".encode())
    out = app.test_cli_runner().invoke(args=["qlvb", "axis", "directory-import", str(path), "--full-list"])
    assert out.exit_code == 0 and "1 ngừng dùng" in out.output, out.output
    assert _names()["000.00.00.G12"] == ("Bộ Tài chính", False)


def test_an_agency_admin_cannot_open_the_directory(make_agency, make_account, logged_in) -> None:
    a = make_agency()
    admin = logged_in(make_account(a.code, ["agency_admin"]))
    assert admin.get("/directory/").status_code in (302, 403, 404)


def test_a_clerk_picks_an_organisation_of_the_directory_and_the_delivery_names_it(app, office, signing) -> None:
    db.session.add(ExternalOrgan(organ_id="000.00.00.G20", name="Bộ Tư pháp", active=True))
    db.session.add(ExternalOrgan(organ_id="000.00.00.G98", name="Cơ quan đã ngừng", active=False))
    db.session.commit()
    sender = office(abbreviation="STTTT")
    choices = dict(AgencyChoices(sender.agency_id, sender.code).choices_for("agencies", None, {}))
    assert choices["000.00.00.G20"] == "Bộ Tư pháp — ngoài hệ thống" and "000.00.00.G98" not in choices
    app.config["QLVB_AXIS_URL"] = ""
    doc = _draft(sender, recipient_agency_codes=["000.00.00.G20"])
    _to_signature(sender, doc, signing)
    wf.complete_task(_task(doc.instance_id, "issue").id, sender.actors["clerk"], {})
    db.session.commit()
    (delivery,) = deliveries.deliveries_of(doc.id)
    assert (delivery.recipient_code, delivery.recipient_name) == ("000.00.00.G20", "Bộ Tư pháp")
