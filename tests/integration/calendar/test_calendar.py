"""Work calendars: draft -> approved -> published, visibility, conflicts, the printed week and iCalendar feeds."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pdfplumber
import pytest
from icalendar import Calendar

from app.calendar import queries, services
from app.calendar.info import EventInput
from app.core.errors import ConflictError, PermissionDeniedError
from app.extensions import db
from app.notifications import queries as notes

MONDAY = dt.date(2031, 3, 10)
T = dt.time


def _meeting(office: Any, **kw: Any) -> EventInput:
    base: dict[str, Any] = {"day": MONDAY, "start_time": T(8, 0), "end_time": T(10, 0),
                            "content": "Giao ban lãnh đạo Sở tuần 11", "location": "Phòng họp tầng 2",
                            "chair_user_id": office["leader"].user_id,
                            "participant_user_ids": (office["head_nv"].user_id, office["head_vp"].user_id),
                            "participants": "Trưởng các phòng", "preparing_unit": "Văn phòng Sở"}
    base.update(kw)
    return EventInput(**base)


def test_leadership_week_is_drafted_approved_published_and_only_then_seen_by_staff(office: Any) -> None:
    clerk, leader, spec = office["clerk"].actor, office["leader"].actor, office["spec_a"].actor
    event = services.add_event(clerk, None, _meeting(office))
    db.session.commit()
    assert event.chair_name == "Nguyễn Văn Giám Đốc" and event.week_state == "draft"
    assert not queries.week_view(spec, None, MONDAY).visible
    with pytest.raises(PermissionDeniedError):
        services.add_event(spec, None, _meeting(office))
    with pytest.raises(PermissionDeniedError):
        services.approve_week(clerk, None, MONDAY)
    with pytest.raises(ConflictError, match="phải được lãnh đạo duyệt"):
        services.publish_week(clerk, None, MONDAY)
    services.approve_week(leader, None, MONDAY)
    assert not queries.week_view(spec, None, MONDAY).visible
    services.publish_week(clerk, None, MONDAY + dt.timedelta(days=3))  # any day of the week names the week
    db.session.commit()
    view = queries.week_view(spec, None, MONDAY)
    assert view.visible and view.week.state == "published"
    assert [e.content for d in view.days for e in d.events] == ["Giao ban lãnh đạo Sở tuần 11"]
    # Everyone named in the week is told once.
    for who in ("leader", "head_nv", "head_vp"):
        assert [n.kind for n in notes.notifications_for(office[who].user_id, office.agency.id)] == ["calendar"]
    assert notes.notifications_for(office["spec_b"].user_id, office.agency.id) == []


def test_editing_an_approved_week_needs_approval_again(office: Any) -> None:
    clerk, leader = office["clerk"].actor, office["leader"].actor
    event = services.add_event(clerk, None, _meeting(office))
    services.approve_week(leader, None, MONDAY)
    services.update_event(clerk, event.id, _meeting(office, content="Giao ban (đổi giờ)", start_time=T(14, 0),
                                                    end_time=None))
    db.session.commit()
    view = queries.week_view(leader, None, MONDAY)
    assert view.week.state == "draft" and view.can_approve


def test_head_keeps_only_their_department_calendar(office: Any) -> None:
    head_nv, head_vp = office["head_nv"].actor, office["head_vp"].actor
    services.add_event(head_nv, office.dept_nv, _meeting(office, content="Họp phòng Nghiệp vụ",
                                                          chair_user_id=office["head_nv"].user_id))
    with pytest.raises(PermissionDeniedError):
        services.add_event(head_vp, office.dept_nv, _meeting(office))
    with pytest.raises(PermissionDeniedError):
        services.add_event(head_nv, None, _meeting(office))
    services.approve_week(head_nv, office.dept_nv, MONDAY)
    services.publish_week(head_nv, office.dept_nv, MONDAY)
    db.session.commit()
    assert queries.week_view(office["spec_a"].actor, office.dept_nv, MONDAY).visible


def test_same_person_or_room_at_overlapping_times_is_flagged(office: Any) -> None:
    clerk = office["clerk"].actor
    first = services.add_event(clerk, None, _meeting(office))
    second = services.add_event(clerk, None, _meeting(
        office, content="Tiếp đoàn công tác của Bộ", start_time=T(9, 30), end_time=T(11, 0), location="Hội trường",
        chair_user_id=None, chair_name="Phó Giám đốc", participant_user_ids=(office["head_nv"].user_id,)))
    third = services.add_event(clerk, None, _meeting(
        office, content="Họp chuyên đề", start_time=T(9, 0), end_time=None, location="phòng họp TẦNG 2",
        chair_user_id=None, chair_name="Trưởng phòng", participant_user_ids=()))
    later = services.add_event(clerk, None, _meeting(office, content="Làm việc buổi chiều", start_time=T(14, 0),
                                                     end_time=T(15, 0)))
    db.session.commit()
    conflicts = queries.week_view(clerk, None, MONDAY).conflicts
    assert any("Lê Văn Trưởng Phòng cũng có lịch «Tiếp đoàn công tác của Bộ»" in w for w in conflicts[first.id])
    assert any("Trùng địa điểm" in w and "Họp chuyên đề" in w for w in conflicts[first.id])
    assert second.id in conflicts and third.id in conflicts
    assert later.id not in conflicts  # same people, other time


def test_week_pdf_is_the_usual_table(office: Any) -> None:
    from app.calendar import printing

    clerk = office["clerk"].actor
    services.add_event(clerk, None, _meeting(office))
    services.add_event(clerk, None, _meeting(office, day=MONDAY + dt.timedelta(days=2), start_time=T(14, 0),
                                             end_time=None, content="Kiểm tra công tác văn thư, lưu trữ"))
    db.session.commit()
    view = queries.week_view(clerk, None, MONDAY)
    events = [e for d in view.days for e in d.events]
    pdf = printing.render_week_pdf(agency_name="Sở Thử nghiệm", governing_body="UBND tỉnh Vĩnh Phúc",
                                   calendar=view.calendar, week_start=MONDAY, events=events,
                                   names=queries.people_names(office.agency.id, events), state=view.week.state,
                                   holidays={})
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        page = doc.pages[0]
        text = page.extract_text()
        table = [[" ".join((cell or "").split()) for cell in row] for row in page.extract_table()]
        assert page.width > page.height  # landscape A4
    for expected in ("LỊCH CÔNG TÁC CỦA LÃNH ĐẠO CƠ QUAN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "chưa ban hành"):
        assert expected in text, expected
    assert table[0] == ["Thứ/Ngày", "Buổi/Thời gian", "Nội dung", "Thành phần", "Địa điểm", "Chủ trì"]
    monday, wednesday = table[1], table[2]
    assert monday[0] == "Thứ Hai 10/03/2031" and monday[1] == "Sáng 08:00 – 10:00"
    assert monday[2] == "Giao ban lãnh đạo Sở tuần 11 Chuẩn bị: Văn phòng Sở"
    assert monday[3] == "Trưởng các phòng; Lê Văn Trưởng Phòng, Phạm Thị Chánh Văn Phòng"
    assert monday[4:] == ["Phòng họp tầng 2", "Nguyễn Văn Giám Đốc"]
    assert wednesday[0] == "Thứ Tư 12/03/2031" and wednesday[1] == "Chiều 14:00"
    assert wednesday[2].startswith("Kiểm tra công tác văn thư, lưu trữ")


def test_ical_feeds_carry_published_events_of_the_person_and_the_calendar(office: Any) -> None:
    from app.calendar import feeds

    clerk, leader = office["clerk"].actor, office["leader"].actor
    services.add_event(clerk, None, _meeting(office))
    services.approve_week(leader, None, MONDAY)
    services.publish_week(leader, None, MONDAY)
    db.session.commit()
    head = office["head_nv"].user_id
    events = queries.events_between(office.agency.id, MONDAY, MONDAY + dt.timedelta(days=6), person_user_id=head)
    assert [e.content for e in events] == ["Giao ban lãnh đạo Sở tuần 11"]
    assert queries.events_between(office.agency.id, MONDAY, MONDAY, person_user_id=office["spec_a"].user_id) == []
    ics = feeds.build_ics("Lịch của tôi", events, queries.people_names(office.agency.id, events), domain="x.vn")
    (vevent,) = Calendar.from_ical(ics).walk("VEVENT")
    assert str(vevent["summary"]) == "Giao ban lãnh đạo Sở tuần 11"
    assert vevent.decoded("dtstart") == dt.datetime(2031, 3, 10, 8, 0, tzinfo=vevent.decoded("dtstart").tzinfo)
    assert vevent.decoded("dtstart").utcoffset() == dt.timedelta(hours=7)
    assert "Chủ trì: Nguyễn Văn Giám Đốc" in str(vevent["description"])
