"""Deposit reminders for work dossiers (issue #6): 30 days before the deposit falls due, and once overdue.

The dossiers domain decides who is due and records that each stage was sent; this module only words and
sends the notifications (in-app and e-mail), inside the job's transaction. The dedupe key names the due
date, so even a race between two runs never tells anyone the same thing twice.
"""

from __future__ import annotations

import datetime as dt

from app.core import clock
from app.dossiers.info import DepositReminderInfo
from app.dossiers.services import take_deposit_reminders

from . import services


def dossier_link(dossier_id: int) -> str:
    return f"/dossiers/{dossier_id}"


def remind_deposit(reminder: DepositReminderInfo) -> int:
    due = reminder.due
    name = f"{due.code} – {due.title}"
    if reminder.stage == "overdue":
        title = f"Quá hạn nộp lưu hồ sơ: {name}"
        body = (f"Hồ sơ đóng ngày {due.closed_on:%d/%m/%Y} phải nộp lưu vào Lưu trữ cơ quan trước ngày "
                f"{due.due_on:%d/%m/%Y}; đã quá hạn {-due.days_left} ngày.")
    else:
        title = f"Sắp đến hạn nộp lưu hồ sơ: {name}"
        body = (f"Hồ sơ đóng ngày {due.closed_on:%d/%m/%Y} phải nộp lưu vào Lưu trữ cơ quan trước ngày "
                f"{due.due_on:%d/%m/%Y} (còn {due.days_left} ngày).")
    return services.notify(reminder.user_ids, agency_id=due.agency_id, kind=reminder.stage, title=title, body=body,
                           link=dossier_link(due.dossier_id),
                           dedupe_key=f"dossier:{due.dossier_id}:deposit:{due.due_on:%Y%m%d}:{reminder.stage}")


def send_deposit_reminders(today: dt.date | None = None) -> int:
    """Send the deposit reminders that fell due (each dossier once per stage); return how many were made."""
    return sum(remind_deposit(r) for r in take_deposit_reminders(today or clock.today()))
