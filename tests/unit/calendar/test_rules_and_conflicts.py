"""Calendar rules without a database: weeks, sessions, permissions, conflicts, the iCalendar text."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar

from app.calendar import feeds, rules
from app.calendar.info import EventInfo
from app.calendar.queries import find_conflicts
from app.workflow.info import ActorRef

T = dt.time
DAY = dt.date(2031, 3, 12)
STAMP = dt.datetime(2031, 3, 1, tzinfo=dt.UTC)


def _event(i: int, start: T, end: T | None = None, *, people: tuple[int, ...] = (), chair: int | None = None,
           location: str = "", day: dt.date = DAY) -> EventInfo:
    return EventInfo(i, 1, 1, None, day, start, end, f"Việc {i}", location, chair, "", people, "", "", "draft", STAMP)


def test_weeks_and_sessions() -> None:
    assert rules.week_start(DAY) == dt.date(2031, 3, 10)
    assert rules.week_label(dt.date(2031, 3, 10)) == "Tuần 11 (từ 10/03 đến 16/03/2031)"
    assert [rules.session_label(t) for t in (T(7, 30), T(13, 30), T(19, 0))] == ["Sáng", "Chiều", "Tối"]
    assert rules.effective_end(T(8, 0), None) == T(11, 30)
    assert rules.effective_end(T(14, 0), None) == T(17, 30)
    assert rules.effective_end(T(19, 0), None) == T(20, 0)
    assert rules.effective_end(T(23, 30), None) == T(23, 59)
    assert rules.effective_end(T(8, 0), T(9, 0)) == T(9, 0)


def test_who_edits_approves_publishes() -> None:
    leader = ActorRef(1, 1, frozenset({"leader"}))
    clerk = ActorRef(2, 1, frozenset({"clerk"}), department_id=5)
    head = ActorRef(3, 1, frozenset({"head"}), department_id=7)
    spec = ActorRef(4, 1, frozenset({"specialist"}), department_id=7)
    assert rules.can_edit(clerk, None) and rules.can_edit(leader, 7) and rules.can_edit(head, 7)
    assert not rules.can_edit(head, None) and not rules.can_edit(head, 5) and not rules.can_edit(spec, 7)
    assert rules.can_approve(leader, None) and rules.can_approve(head, 7)
    assert not rules.can_approve(clerk, None) and not rules.can_approve(head, None)
    assert rules.can_publish(clerk, None) and not rules.can_publish(clerk, 7) and rules.can_publish(head, 7)


def test_conflicts_need_overlap_and_a_shared_person_or_room() -> None:
    a = _event(1, T(8, 0), T(10, 0), people=(11,), chair=10, location="Phòng họp số 1")
    b = _event(2, T(9, 0), T(9, 30), people=(10,))  # the chair of a attends b
    c = _event(3, T(10, 0), T(11, 0), people=(11,))  # starts when a ends: no overlap
    d = _event(4, T(8, 30), None, location="phong hop so 1")  # same room, other spelling, open-ended
    e = _event(5, T(8, 0), T(10, 0), people=(11,), day=DAY + dt.timedelta(days=1))  # another day
    found = find_conflicts([a, b, c, d, e], {10: "Nguyễn Văn A", 11: "Trần Thị B"})
    assert found[1] == ("Nguyễn Văn A cũng có lịch «Việc 2» lúc 09:00",
                        "Trùng địa điểm «Phòng họp số 1» với «Việc 4» lúc 08:30")
    assert found[2] == ("Nguyễn Văn A cũng có lịch «Việc 1» lúc 08:00",)
    assert 3 not in found and 5 not in found and 4 in found


def test_ics_is_valid_with_vietnam_time_and_vietnamese_text() -> None:
    ev = EventInfo(9, 1, 1, None, DAY, T(14, 0), None, "Hội nghị chuyển đổi số", "Hội trường UBND tỉnh", None,
                   "Phó Chủ tịch UBND tỉnh", (10,), "Lãnh đạo các sở", "Sở TTTT", "published", STAMP)
    cal = Calendar.from_ical(feeds.build_ics("Lịch của tôi", [ev], {10: "Nguyễn Văn A"}, domain="stttt.vn"))
    assert str(cal["x-wr-calname"]) == "Lịch của tôi"
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
    (item,) = cal.walk("VEVENT")
    assert str(item["uid"]) == "lich-9@stttt.vn" and str(item["location"]) == "Hội trường UBND tỉnh"
    assert item.decoded("dtstart").isoformat() == "2031-03-12T14:00:00+07:00"
    assert item.decoded("dtend").isoformat() == "2031-03-12T17:30:00+07:00"
    assert str(item["description"]) == ("Chủ trì: Phó Chủ tịch UBND tỉnh\nThành phần: Lãnh đạo các sở; Nguyễn Văn A\n"
                                        "Chuẩn bị: Sở TTTT")
