"""iCalendar (RFC 5545) feeds that calendar apps subscribe to."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar, Event

from app.core import clock

from . import rules
from .info import EventInfo


def build_ics(name: str, events: list[EventInfo], names: dict[int, str], *, domain: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//QLVB Vinh Phuc//Lich cong tac//VI")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Ho_Chi_Minh")
    stamp = clock.now()
    for e in events:
        start = dt.datetime.combine(e.day, e.start_time, tzinfo=clock.VN_TZ)
        end = dt.datetime.combine(e.day, rules.effective_end(e.start_time, e.end_time), tzinfo=clock.VN_TZ)
        item = Event()
        item.add("uid", f"lich-{e.id}@{domain}")
        item.add("dtstamp", stamp)
        item.add("last-modified", e.updated_at)
        item.add("dtstart", start)
        item.add("dtend", end)
        item.add("summary", e.content)
        if e.location:
            item.add("location", e.location)
        people = ", ".join(names[u] for u in e.participant_user_ids if u in names)
        lines = [f"Chủ trì: {e.chair_name or names.get(e.chair_user_id or 0, '')}"]
        if e.participants or people:
            lines.append("Thành phần: " + "; ".join(p for p in (e.participants, people) if p))
        if e.preparing_unit:
            lines.append(f"Chuẩn bị: {e.preparing_unit}")
        item.add("description", "\n".join(lines))
        cal.add_component(item)
    cal.add_missing_timezones()  # TZID needs its VTIMEZONE (RFC 5545 §3.2.19); Outlook refuses the feed without it
    return cal.to_ical()
