"""Working days for the deadline helpers beside date fields ("còn 5 ngày làm việc"), from the agency's calendar
(Vietnamese public holidays, the province's and the agency's own days off and make-up days)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import jsonify, request
from flask_appbuilder import BaseView, expose, has_access

from app.admin.permissions import register_common_grants
from app.core import clock
from app.deadlines import workdays

from .auth import current_actor

WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
MAX_ADD = 366


def parse_day(raw: str) -> dt.date | None:
    """dd/mm/yyyy as the forms show it, or yyyy-mm-dd as date inputs post it."""
    raw = raw.strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d/%m/%Y %H:%M"):
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return None


def describe(today: dt.date, day: dt.date, agency_id: int) -> dict[str, Any]:
    """How far ``day`` is from ``today`` in working days, said the way a clerk says it."""
    n = workdays.working_days_between(today, day, agency_id=agency_id)
    label = f"{WEEKDAYS[day.weekday()]} {day:%d/%m/%Y}"
    if n > 0:
        text = f"Còn {n} ngày làm việc (đến {label})."
    elif n == 0 and day >= today:
        text = f"Hạn là hôm nay ({label})." if day == today else f"Đến {label}: không còn ngày làm việc nào."
    else:
        text = f"Đã qua {-n} ngày làm việc ({label})."
    if not workdays.is_working_day(day, agency_id=agency_id):
        why = workdays.day_kind_label(day, agency_id=agency_id) or (
            "ngày nghỉ cuối tuần" if day.weekday() >= 5 else "ngày nghỉ")
        text += f" Lưu ý: đây là {why[0].lower() + why[1:]}, cơ quan không làm việc."
    return {"date": f"{day:%d/%m/%Y}", "workdays": n, "text": text}


class WorkdaysView(BaseView):
    route_base = "/deadlines"
    default_view = "count"

    @expose("/workdays")
    @has_access
    def count(self) -> Any:
        """``?until=dd/mm/yyyy`` → working days from today; ``?add=n`` → the day n working days from today."""
        actor = current_actor()
        today = clock.today()
        if request.args.get("add"):
            try:
                n = int(request.args["add"])
            except ValueError:
                n = None
            if n is None or not 0 <= n <= MAX_ADD:
                return jsonify(error=f"Số ngày làm việc phải là số nguyên từ 0 đến {MAX_ADD}."), 400
            day = workdays.add_working_days(today, n, agency_id=actor.agency_id)
            return jsonify(describe(today, day, actor.agency_id))
        day = parse_day(request.args.get("until", ""))
        if day is None:
            return jsonify(error="Ngày không hợp lệ; nhập theo dạng ngày/tháng/năm, ví dụ 15/12/2026."), 400
        return jsonify(describe(today, day, actor.agency_id))


register_common_grants("WorkdaysView", ("can_count",))


def register(appbuilder: Any) -> None:
    appbuilder.add_view_no_menu(WorkdaysView)
