"""Working days: weekends, Vietnamese public holidays (Tết), agency and province days off, make-up Saturdays."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.deadlines import services
from app.deadlines.workdays import (
    add_working_days,
    day_kind_label,
    is_working_day,
    previous_working_day,
    working_days_between,
)
from app.extensions import db
from app.workflow.due import due_in_working_days

D = dt.date


def test_weekends_and_tet_are_skipped(app: Any) -> None:
    assert add_working_days(D(2026, 11, 27), 1) == D(2026, 11, 30)  # Friday + 1 = Monday
    # Tết Bính Ngọ: Mon 16 Feb to Fri 20 Feb 2026 are public holidays.
    assert not is_working_day(D(2026, 2, 17))
    assert add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 23)
    assert working_days_between(D(2026, 2, 13), D(2026, 2, 23)) == 1
    assert working_days_between(D(2026, 2, 23), D(2026, 2, 13)) == -1
    assert previous_working_day(D(2026, 2, 23)) == D(2026, 2, 13)
    assert day_kind_label(D(2026, 2, 17)) == "Tết Nguyên Đán"
    assert add_working_days(D(2026, 4, 29), 2) == D(2026, 5, 5)  # 30/4, 1/5 and the weekend


def test_agency_days_off_and_make_up_days_are_data(make_agency: Any) -> None:
    mine, other = make_agency(), make_agency()
    monday, saturday = D(2031, 3, 3), D(2031, 3, 8)
    services.set_day(monday, "off", "Nghỉ bù ngày thành lập", agency_id=mine.id)
    services.set_day(saturday, "work", "Làm bù", agency_id=mine.id)
    db.session.commit()
    assert not is_working_day(monday, agency_id=mine.id)
    assert is_working_day(monday, agency_id=other.id) and is_working_day(monday)
    assert is_working_day(saturday, agency_id=mine.id) and not is_working_day(saturday, agency_id=other.id)
    assert add_working_days(D(2031, 2, 28), 1, agency_id=mine.id) == D(2031, 3, 4)
    assert working_days_between(D(2031, 3, 2), D(2031, 3, 9), agency_id=mine.id) == 5
    assert day_kind_label(monday, agency_id=mine.id) == "Ngày nghỉ"
    assert [d.name for d in services.days_of(mine.id, 2031)] == ["Nghỉ bù ngày thành lập", "Làm bù"]


def test_province_day_off_moves_workflow_due_dates(app: Any) -> None:
    friday = D(2032, 6, 4)
    before = due_in_working_days(1, start=D(2032, 6, 3))
    services.set_day(friday, "off", "Nghỉ theo quyết định của UBND tỉnh", agency_id=None)
    db.session.commit()
    try:
        after = due_in_working_days(1, start=D(2032, 6, 3))  # create_app installed the full calendar
        assert before.date() == friday and after.date() == D(2032, 6, 7)
    finally:
        info = services.days_of(None, 2032)[0]
        services.remove_day(info.id, agency_id=None)
        db.session.commit()


def test_calendar_cache_never_keeps_a_rolled_back_day(make_agency: Any) -> None:
    agency = make_agency()
    tuesday = D(2033, 5, 10)
    assert is_working_day(tuesday, agency_id=agency.id)  # the year is now cached
    services.set_day(tuesday, "off", "Nghỉ đột xuất", agency_id=agency.id)
    assert not is_working_day(tuesday, agency_id=agency.id)  # seen at once, in the same transaction
    db.session.rollback()
    assert is_working_day(tuesday, agency_id=agency.id)  # the rolled-back day is not remembered
    services.set_day(tuesday, "off", "Nghỉ đột xuất", agency_id=agency.id)
    db.session.commit()
    assert not is_working_day(tuesday, agency_id=agency.id)
    assert add_working_days(D(2033, 5, 9), 1, agency_id=agency.id) == D(2033, 5, 11)
