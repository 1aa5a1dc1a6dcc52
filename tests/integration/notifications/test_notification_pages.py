"""Thông báo over HTTP: the navbar badge, the list, opening marks read, nobody opens another's notice."""

from __future__ import annotations

import re
from typing import Any

from app.extensions import db
from app.notifications import services


def test_badge_list_open_and_read_all(office: Any, logged_in: Any, make_agency: Any, make_account: Any) -> None:
    aid, me = office.agency.id, office["spec_a"]
    services.notify([me.user_id], agency_id=aid, kind="task_new", title="Công việc mới: Xử lý văn bản",
                    body="Văn bản đến số 5/UBND", link="/tasks/123")
    services.notify([me.user_id], agency_id=aid, kind="overdue", title="Quá hạn: Báo cáo tháng", urgent=True)
    db.session.commit()
    client = logged_in(me.account)
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'class="qlvb-bell".*?<span class="badge">2</span>', home, re.S)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Công việc mới: Xử lý văn bản" in page and "Quá hạn: Báo cáo tháng" in page and "2 chưa đọc" in page
    first_id = re.findall(r"/notifications/(\d+)/open", page)[-1]
    opened = client.get(f"/notifications/{first_id}/open")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/tasks/123")
    assert "1 chưa đọc" in client.get("/notifications/").get_data(as_text=True)
    unread_tab = client.get("/notifications/?tab=unread").get_data(as_text=True)
    assert "Quá hạn: Báo cáo tháng" in unread_tab and "Công việc mới: Xử lý văn bản" not in unread_tab

    colleague = logged_in(office["spec_b"].account)
    assert colleague.get(f"/notifications/{first_id}/open").status_code == 404
    assert "Báo cáo tháng" not in colleague.get("/notifications/").get_data(as_text=True)
    stranger = logged_in(make_account(make_agency().code, ["specialist"]))
    assert stranger.get(f"/notifications/{first_id}/open").status_code == 404

    done = client.form_post("/notifications/read-all", {}, from_page="/notifications/")
    assert done.status_code == 302
    page = client.get("/notifications/").get_data(as_text=True)
    assert "chưa đọc</small>" not in page and '<span class="badge">' not in page


def test_a_new_task_reaches_the_inbox_owner_page(office: Any, logged_in: Any) -> None:
    from app.workflow import services as wf
    from tests.support.ops import publish_template

    publish_template(office.agency.id, "incoming")
    wf.start_instance(office.agency.id, "incoming", subject_type="test", subject_id=9, data={},
                      actor=office["clerk"].actor)
    db.session.commit()
    page = logged_in(office["clerk"].account).get("/notifications/").get_data(as_text=True)
    assert "Công việc mới: Vào sổ văn bản đến" in page
    assert "Vào sổ văn bản đến" not in logged_in(office["leader"].account).get("/notifications/").get_data(
        as_text=True)
