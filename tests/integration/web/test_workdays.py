"""The working-day helper beside deadline fields: counts from the agency's own calendar (issue #15 item 2)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.core import clock
from app.deadlines import services as days_off
from app.deadlines import workdays
from app.extensions import db


def test_working_days_until_a_date_and_n_working_days_from_today(make_agency: Any, make_account: Any,
                                                                 logged_in: Any) -> None:
    agency = make_agency()
    c = logged_in(make_account(agency.code, ["head"], department_code="nv"))
    today = clock.today()
    friday_after_next = today + dt.timedelta(days=(4 - today.weekday()) % 7 + 7)
    expected = workdays.working_days_between(today, friday_after_next, agency_id=agency.id)
    res = c.get(f"/deadlines/workdays?until={friday_after_next:%d/%m/%Y}")
    assert res.status_code == 200
    body = res.get_json()
    assert body["workdays"] == expected and body["date"] == f"{friday_after_next:%d/%m/%Y}"
    assert body["text"] == f"Còn {expected} ngày làm việc (đến thứ Sáu {friday_after_next:%d/%m/%Y})."
    assert c.get(f"/deadlines/workdays?until={friday_after_next.isoformat()}").get_json() == body

    five = c.get("/deadlines/workdays?add=5").get_json()
    assert five["date"] == f"{workdays.add_working_days(today, 5, agency_id=agency.id):%d/%m/%Y}"
    assert five["workdays"] == 5


def test_the_agency_day_off_counts_and_a_day_off_is_named(make_agency: Any, make_account: Any,
                                                          logged_in: Any) -> None:
    agency = make_agency()
    c = logged_in(make_account(agency.code, ["leader"]))
    today = clock.today()
    monday = today + dt.timedelta(days=7 - today.weekday() + 7)  # a Monday at least a week ahead
    before = c.get(f"/deadlines/workdays?until={monday + dt.timedelta(days=4):%d/%m/%Y}").get_json()["workdays"]
    days_off.set_day(monday + dt.timedelta(days=1), "off", "Nghỉ bù của cơ quan", agency_id=agency.id)
    db.session.commit()
    workdays.forget_days_off()
    after = c.get(f"/deadlines/workdays?until={monday + dt.timedelta(days=4):%d/%m/%Y}").get_json()["workdays"]
    assert after == before - 1
    sunday = monday - dt.timedelta(days=1)
    assert "cơ quan không làm việc" in c.get(f"/deadlines/workdays?until={sunday:%d/%m/%Y}").get_json()["text"]


def test_bad_input_gets_a_vietnamese_message(make_agency: Any, make_account: Any, logged_in: Any) -> None:
    agency = make_agency()
    c = logged_in(make_account(agency.code, ["clerk"], department_code="vp"))
    res = c.get("/deadlines/workdays?until=31/02/2027")
    assert res.status_code == 400 and "Ngày không hợp lệ" in res.get_json()["error"]
    res = c.get("/deadlines/workdays?add=-3")
    assert res.status_code == 400 and "Số ngày làm việc" in res.get_json()["error"]
