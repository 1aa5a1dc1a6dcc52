"""Lịch công tác over HTTP: week page, add, approve, publish, PDF, feeds without a session; agency isolation."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from icalendar import Calendar

from app.core import clock

# Next week: inside the window a feed serves (8 weeks back, 26 ahead).
WEEK = (clock.today() + dt.timedelta(days=7 - clock.today().weekday())).isoformat()


def _add(client: Any, department: str = "", **fields: str) -> Any:
    data = {"day": WEEK, "start_time": "08:00", "end_time": "10:00", "content": "Giao ban lãnh đạo Sở",
            "location": "Phòng họp tầng 2", "chair_name": "Giám đốc Sở", "participants": "Trưởng các phòng",
            "preparing_unit": "Văn phòng", **fields}
    query = f"?department={department}" if department else ""
    return client.form_post(f"/calendar/event/new{query}", data)


def test_clerk_drafts_leader_approves_and_publishes_staff_then_see_it(office: Any, logged_in: Any) -> None:
    clerk, leader, spec = (logged_in(office[k].account) for k in ("clerk", "leader", "spec_a"))
    resp = _add(clerk)
    assert resp.status_code == 302 and f"week={WEEK}" in resp.headers["Location"]
    page = clerk.get(f"/calendar/?week={WEEK}").get_data(as_text=True)
    assert "Giao ban lãnh đạo Sở" in page and "Dự thảo" in page and "Duyệt lịch tuần" not in page
    assert "Giao ban lãnh đạo Sở" not in spec.get(f"/calendar/?week={WEEK}").get_data(as_text=True)
    assert spec.get(f"/calendar/pdf?week={WEEK}").status_code == 404  # a draft is not printed for staff
    assert spec.get("/calendar/event/new").status_code == 403

    page = leader.get(f"/calendar/?week={WEEK}").get_data(as_text=True)
    assert "Duyệt lịch tuần" in page
    assert leader.form_post("/calendar/approve", {"week": WEEK}, from_page=f"/calendar/?week={WEEK}"
                            ).status_code == 302
    assert "Ban hành" in leader.get(f"/calendar/?week={WEEK}").get_data(as_text=True)
    assert leader.form_post("/calendar/publish", {"week": WEEK}, from_page=f"/calendar/?week={WEEK}"
                            ).status_code == 302
    page = spec.get(f"/calendar/?week={WEEK}").get_data(as_text=True)
    assert "Giao ban lãnh đạo Sở" in page and "Đã ban hành" in page
    pdf = spec.get(f"/calendar/pdf?week={WEEK}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_invalid_event_shows_vietnamese_field_errors(office: Any, logged_in: Any) -> None:
    clerk = logged_in(office["clerk"].account)
    resp = _add(clerk, content="  ", end_time="07:00")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Nhập nội dung công việc" in html and "Giờ kết thúc phải sau giờ bắt đầu" in html


def test_feeds_work_without_session_only_on_their_agency(office: Any, logged_in: Any, client_for: Any,
                                                         make_agency: Any) -> None:
    clerk, leader = logged_in(office["clerk"].account), logged_in(office["leader"].account)
    _add(clerk, chair_name="", chair_user_id=str(office["leader"].user_id))
    leader.form_post("/calendar/approve", {"week": WEEK}, from_page=f"/calendar/?week={WEEK}")
    leader.form_post("/calendar/publish", {"week": WEEK}, from_page=f"/calendar/?week={WEEK}")
    page = leader.get("/calendar/feeds").get_data(as_text=True)
    urls = re.findall(r'value="(http://[^"]+\.ics)"', page)
    assert len(urls) == 4  # mine, the leadership's, each of the two departments'
    person_path, leadership_path = (u.split(".localhost", 1)[1] for u in urls[:2])
    anonymous = client_for(office["leader"].account.host)
    feed = anonymous.get(person_path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    (event,) = Calendar.from_ical(feed.data).walk("VEVENT")
    assert str(event["summary"]) == "Giao ban lãnh đạo Sở"
    (same,) = Calendar.from_ical(anonymous.get(leadership_path).data).walk("VEVENT")
    assert same["uid"] == event["uid"]
    other = make_agency()
    assert client_for(f"{other.code}.localhost").get(person_path).status_code == 404
    assert anonymous.get("/calendar/ical/not-a-token.ics").status_code == 404
    leader.form_post("/calendar/feeds/reset", {}, from_page="/calendar/feeds")
    assert anonymous.get(person_path).status_code == 404  # old addresses die with a reset


def test_other_agency_never_sees_or_edits_events(office: Any, logged_in: Any, make_agency: Any,
                                                 make_account: Any) -> None:
    clerk = logged_in(office["clerk"].account)
    _add(clerk, content="Họp kín của Sở A")
    page = clerk.get(f"/calendar/?week={WEEK}").get_data(as_text=True)
    event_id = re.search(r"/calendar/event/(\d+)/edit", page).group(1)
    other = make_agency()
    stranger = logged_in(make_account(other.code, ["clerk"], department_code="vp"))
    assert "Họp kín của Sở A" not in stranger.get(f"/calendar/?week={WEEK}").get_data(as_text=True)
    assert stranger.get(f"/calendar/event/{event_id}/edit").status_code == 404
    assert stranger.get(f"/calendar/?week={WEEK}&department={office.dept_nv}").status_code == 404
