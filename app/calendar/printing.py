"""The weekly calendar as printed and posted: landscape A4, one row per event, days merged down the first column."""

from __future__ import annotations

import datetime as dt
from itertools import groupby

from app.render import render_template_pdf

from . import rules
from .info import CalendarRef, EventInfo

_TEMPLATE = """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{{ title }}</title><style>
@page { size: A4 landscape; margin: 12mm 12mm 14mm 15mm;
  @bottom-center { content: "Trang " counter(page) "/" counter(pages); font-size: 9pt;
                   font-family: "Liberation Serif", "Times New Roman", serif; } }
html { font-family: "Liberation Serif", "Times New Roman", serif; font-size: 11.5pt; color: #000; }
.head { display: flex; justify-content: space-between; text-align: center; }
.head div { width: 48%; }
.org { font-size: 11pt; } .org b, .nation b { font-size: 12pt; }
.nation i { font-size: 12pt; }
h1 { font-size: 14pt; text-align: center; margin: 10pt 0 0; text-transform: uppercase; }
.sub { text-align: center; font-style: italic; margin: 2pt 0 6pt; }
table { width: 100%; border-collapse: collapse; }
th, td { border: 0.75pt solid #000; padding: 3pt 4pt; vertical-align: top; }
th { background: #eee; white-space: nowrap; }
col.c-day { width: 10%; } col.c-time { width: 11%; } col.c-content { width: 35%; } col.c-people { width: 20%; }
col.c-place { width: 12%; } col.c-chair { width: 12%; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td.day { text-align: center; font-weight: bold; }
td.time { text-align: center; white-space: nowrap; }
.holiday { font-weight: normal; font-style: italic; font-size: 10pt; }
.changed { font-style: italic; font-size: 9.5pt; }
.empty { text-align: center; font-style: italic; }
.state { text-align: right; font-size: 10pt; margin-top: 6pt; }
</style></head><body>
<div class="head">
  <div class="org">{{ governing | upper }}<br><b>{{ agency | upper }}</b></div>
  <div class="nation"><b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b><br><i><u>Độc lập - Tự do - Hạnh phúc</u></i></div>
</div>
<h1>{{ title }}</h1>
<p class="sub">{{ subtitle }}</p>
<table>
<colgroup><col class="c-day"><col class="c-time"><col class="c-content"><col class="c-people"><col class="c-place">
<col class="c-chair"></colgroup>
<thead><tr><th>Thứ/Ngày</th><th>Buổi/Thời gian</th><th>Nội dung</th><th>Thành phần</th><th>Địa điểm</th>
<th>Chủ trì</th></tr></thead>
<tbody>
{% for day in days %}{% for e in day.rows %}<tr>
{% if loop.first %}<td class="day" rowspan="{{ day.rows | length }}">{{ day.weekday }}<br>{{ day.date }}
{% if day.holiday %}<br><span class="holiday">{{ day.holiday }}</span>{% endif %}</td>{% endif %}
<td class="time">{{ e.session }}<br>{{ e.time }}</td>
<td>{{ e.content }}{% if e.preparing %}<br><i>Chuẩn bị: {{ e.preparing }}</i>{% endif %}
{% if e.changed %}<br><span class="changed">(điều chỉnh)</span>{% endif %}</td>
<td>{{ e.participants }}</td><td>{{ e.location }}</td><td>{{ e.chair }}</td>
</tr>{% endfor %}{% else %}<tr><td colspan="6" class="empty">Không có lịch công tác trong tuần.</td></tr>
{% endfor %}
</tbody></table>
{% if state %}<p class="state">{{ state }}</p>{% endif %}
</body></html>"""


def _time(e: EventInfo) -> str:
    return f"{e.start_time:%H:%M}" + (f" – {e.end_time:%H:%M}" if e.end_time else "")


def render_week_pdf(*, agency_name: str, governing_body: str, calendar: CalendarRef, week_start: dt.date,
                    events: list[EventInfo], names: dict[int, str], state: str, holidays: dict[dt.date, str]) -> bytes:
    days = []
    for day, group in groupby(sorted(events, key=lambda e: (e.day, e.start_time, e.id)), key=lambda e: e.day):
        rows = []
        for e in group:
            people = ", ".join(names.get(u, "") for u in e.participant_user_ids if names.get(u))
            rows.append({"session": rules.session_label(e.start_time), "time": _time(e), "content": e.content,
                         "preparing": e.preparing_unit, "changed": e.changed_after_publish,
                         "participants": "; ".join(p for p in (e.participants, people) if p),
                         "location": e.location, "chair": e.chair_name or names.get(e.chair_user_id or 0, "")})
        days.append({"weekday": rules.WEEKDAYS[day.weekday()], "date": f"{day:%d/%m/%Y}",
                     "holiday": holidays.get(day), "rows": rows})
    title = f"Lịch công tác {'của ' + calendar.name if calendar.department_id else 'của lãnh đạo cơ quan'}"
    return render_template_pdf(_TEMPLATE, {
        "title": title, "subtitle": rules.week_label(week_start), "agency": agency_name,
        "governing": governing_body or "", "days": days,
        "state": "" if state == "published" else f"Bản {rules.STATE_LABELS.get(state, state).lower()} – chưa ban hành",
    })
