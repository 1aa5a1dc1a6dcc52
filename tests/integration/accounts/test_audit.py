"""The audit log: logins with where from, agency scoping of the admin page, CSV/XLSX exports, the signal."""

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from app.accounts.models import AuditEvent
from app.core import signals
from app.extensions import db


def test_logins_failures_and_logouts_are_recorded_with_origin(make_agency, make_account, client_for):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    c = client_for(acc.host)
    c.client.environ_base["HTTP_USER_AGENT"] = "TrinhDuyetThu/1.0"
    c.login(acc.email, "Sai-mat-khau-9")
    c.login(acc.email, acc.password)
    c.logout()
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.username == acc.email).order_by(AuditEvent.id)).all()
    assert [r.kind for r in rows] == ["login_failed", "login", "logout"]
    assert rows[0].message == "Sai mật khẩu" and not rows[0].success
    assert all(r.agency_id == a.id and r.ip == "127.0.0.1" and r.user_agent == "TrinhDuyetThu/1.0" for r in rows)


def test_agency_admin_sees_only_own_agency_and_soict_sees_all(make_agency, make_account, logged_in, soict):
    a, b = make_agency(), make_agency()
    admin_a = make_account(a.code, ["agency_admin"])
    user_b = make_account(b.code, ["clerk"])
    logged_in(user_b)
    page = logged_in(admin_a).get("/audit/").get_data(as_text=True)
    assert admin_a.email in page and user_b.email not in page
    # A crafted agency filter is ignored for agency admins.
    page = logged_in(admin_a).get(f"/audit/?agency_id={b.id}").get_data(as_text=True)
    assert user_b.email not in page
    central = logged_in(soict)
    page = central.get(f"/audit/?agency_id={b.id}&kind=login").get_data(as_text=True)
    assert user_b.email in page and admin_a.email not in page


def test_exports_csv_and_xlsx_and_the_export_is_audited(make_agency, make_account, logged_in, soict):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    logged_in(acc)
    central = logged_in(soict)
    resp = central.get(f"/audit/export.csv?agency_id={a.id}")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert rows[0][:2] == ["Thời điểm (giờ Việt Nam)", "Sự kiện"]
    assert any(r[1] == "Đăng nhập" and r[4] == acc.email for r in rows[1:])
    resp = central.get(f"/audit/export.xlsx?agency_id={a.id}")
    ws = load_workbook(io.BytesIO(resp.get_data())).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][1] == "Sự kiện" and any(v[4] == acc.email for v in values[1:])
    exports = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "export",
                                                          AuditEvent.username == soict.email)).all()
    assert len(exports) == 2


def test_formula_injection_is_neutralised_in_exports(make_agency, soict, logged_in):
    a = make_agency()
    signals.audit.send("test", kind="document_viewed", agency_id=a.id, username="=HYPERLINK(\"http://x\")",
                       target_type="document", target_id=42)
    db.session.commit()
    body = logged_in(soict).get(f"/audit/export.csv?agency_id={a.id}").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in body


def test_other_packages_announce_events_through_the_signal(make_agency):
    a = make_agency()
    signals.audit.send("documents", kind="document_downloaded", agency_id=a.id, user_id=None, username="x@y.vn",
                       target_type="attachment", target_id=7, file_name="Công văn.pdf")
    db.session.commit()
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.agency_id == a.id,
                                                     AuditEvent.kind == "document_downloaded"))
    assert row.target_id == "7" and row.detail == {"file_name": "Công văn.pdf"}
