"""What people are told about opinion requests: answers arriving and reminders before the deadline.

Goes through ``app.notifications.services.notify`` (in-app and e-mail), inside the caller's transaction.
"""

from __future__ import annotations

from app.notifications.services import notify

from .models import OpinionRequest, OpinionReviewer
from .queries import ReminderInfo


def link(request_id: int) -> str:
    return f"/opinions/{request_id}"


def answer_arrived(original: OpinionRequest, reviewer: OpinionReviewer) -> int:
    """Tell the requester an answer came back from another agency."""
    return notify([original.requester_id], agency_id=original.agency_id, kind="opinion_answer",
                  title=f"Đã có ý kiến trả lời: {original.title}"[:255],
                  body="Một cơ quan được xin ý kiến đã trả lời phiếu của bạn.", link=link(original.id),
                  dedupe_key=f"opinion:{reviewer.id}:answered")


def remind(due: ReminderInfo) -> int:
    return notify(due.user_ids, agency_id=due.agency_id, kind="due_soon",
                  title=f"Sắp đến hạn trả lời xin ý kiến: {due.title}"[:255],
                  body=f"Hạn trả lời: ngày {due.deadline:%d/%m/%Y}. Bạn chưa gửi ý kiến.",
                  link=link(due.request_id), dedupe_key=f"opinion:{due.reviewer_id}:due_soon")
