"""Inbox filters and orders through HTTP: kept in links, combined with tabs, counts that agree, bad input ignored."""

from __future__ import annotations

import datetime as dt
import re

from app.core import clock
from app.extensions import db
from app.workflow import queries as wfq
from app.workflow import services as wf

from .conftest import open_task


def _summaries(html: str) -> list[str]:
    return re.findall(r"văn bản số (\d+)", html)


def _badge(html: str, tab: str) -> int:
    m = re.search(rf'tab={tab}[^"]*">[^<]*<span class="badge[^"]*">(\d+)</span>', html)
    assert m, f"no badge for {tab}"
    return int(m.group(1))


def test_urgency_filter_and_order(office, logged_in):
    for i, urgency in ((1, "thuong"), (2, "hoa_toc"), (3, "khan"), (4, "khan")):
        office.register(i, urgency)
    c = logged_in(office.leader)
    page = c.get("/inbox/?urgency=khan").get_data(as_text=True)
    assert sorted(set(_summaries(page))) == ["3", "4"]
    assert _badge(page, "todo") == 2
    assert "Bỏ lọc" in page and "urgency=khan" in re.search(r'<ul class="nav nav-tabs">.*?</ul>', page, re.S).group(0)
    by_urgency = _summaries(c.get("/inbox/?sort=urgency").get_data(as_text=True))
    assert by_urgency[0] == "2" and by_urgency[-1] == "1"  # hỏa tốc first, thường last
    ascending = _summaries(c.get("/inbox/?sort=urgency&dir=asc").get_data(as_text=True))
    assert ascending[0] == "1" and ascending[-1] == "2"
    newest = _summaries(c.get("/inbox/?sort=received&dir=desc").get_data(as_text=True))
    assert newest[0] == "4" and newest[-1] == "1"
    assert _summaries(c.get("/inbox/?process=outgoing").get_data(as_text=True)) == []
    assert len(set(_summaries(c.get("/inbox/?process=incoming").get_data(as_text=True)))) == 4
    plain = c.get("/inbox/").get_data(as_text=True)
    assert "Bỏ lọc" not in plain and _badge(plain, "todo") == 4


def test_bad_parameters_are_ignored(office, logged_in):
    office.register(1)
    c = logged_in(office.leader)
    for query in ("urgency=rat_khan", "due=yesterday", "process=%00", "department=99999999999999999999999",
                  "department=abc", "sort=id;drop", "dir=sideways", "tab=nothing&page=-4", "sort=urgency&dir=",
                  "urgency=khan&urgency=thuong&due=none&due=overdue"):
        resp = c.get(f"/inbox/?{query}")
        assert resp.status_code in (200, 400), query
    assert c.get("/inbox/?urgency=rat_khan&sort=evil").status_code == 200
    assert set(_summaries(c.get("/inbox/?urgency=rat_khan&sort=evil").get_data(as_text=True))) == {"1"}


def test_department_filter_and_due_filters(office, logged_in):
    doc = office.register(1)
    other = office.register(2)
    for d in (doc, other):
        wf.complete_task(open_task(d).id, office.actor(office.leader, "leader"),
                         {"lead_department_id": office.nv, "deadline": None})
    db.session.commit()
    c = logged_in(office.head)
    assert len(set(_summaries(c.get(f"/inbox/?department={office.nv}").get_data(as_text=True)))) == 2
    page = c.get(f"/inbox/?department={office.vp}").get_data(as_text=True)
    assert _summaries(page) == [] and _badge(page, "todo") == 0
    # Due filters, at fixed moments: the head's steps are due in two working days.
    head = office.actor(office.head, "head", office.nv)
    due = open_task(doc).due_at
    before = due - dt.timedelta(hours=1)
    today = wfq.InboxFilter(due="today")
    assert {t.subject_id for t in wfq.inbox(head, "todo", now=before, filters=wfq.InboxFilter(due="soon"))} == \
        {doc.id, other.id}
    on_day = wfq.count_inbox(head, "todo", now=before, filters=today)
    assert on_day == (2 if before.astimezone(clock.VN_TZ).date() == due.astimezone(clock.VN_TZ).date() else 0)
    after = due + dt.timedelta(hours=1)
    assert wfq.count_inbox(head, "overdue", now=after, filters=wfq.InboxFilter(due="overdue")) == 2
    assert wfq.count_inbox(head, "todo", now=after, filters=wfq.InboxFilter(due="overdue")) == 0
    assert wfq.count_inbox(head, "todo", now=before, filters=wfq.InboxFilter(due="none")) == 0
    counts = wfq.count_inbox_buckets(head, now=after, filters=wfq.InboxFilter(department_id=office.nv))
    assert counts["overdue"] == 2 and counts["todo"] == 0
