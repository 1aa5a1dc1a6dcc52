"""The leader's progress view: what is late or open in the agency (heads: in their department)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder import BaseView, expose, has_access

from app.admin.permissions import register_grants
from app.core import clock
from app.tenancy import roles as R
from app.tenancy.queries import departments_of, staff_for_user
from app.workflow import progress

from . import subjects
from .auth import current_actor


class ProgressView(BaseView):
    route_base = "/progress"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        actor = current_actor()
        show = request.args.get("show", "overdue")
        rows = progress.agency_overdue(actor.agency_id) if show == "overdue" else progress.agency_open(actor.agency_id)
        if R.LEADER not in actor.roles:
            # A head of department follows the steps waiting in their own department.
            rows = [t for t in rows if t.candidate_department_id == actor.department_id]
        about = subjects.describe(actor.agency_id, [(t.subject_type, t.subject_id) for t in rows])
        people = {}
        for t in rows:
            uid = t.claimed_by_id or t.candidate_user_id
            if uid and uid not in people:
                staff = staff_for_user(uid)
                people[uid] = staff.full_name if staff else ""
        departments = {d.id: d.name for d in departments_of(actor.agency_id)}
        now = clock.now()
        return self.render_template("inbox/progress.html", rows=rows, about=about, people=people,
                                    departments=departments, show=show, now=now, labels=subjects.PROCESS_LABELS,
                                    role_label=R.role_label)


for _role in (R.LEADER, R.HEAD):
    register_grants(_role, "ProgressView", ("can_index",))
    register_grants(_role, "Tiến độ xử lý", ("menu_access",))


def register(appbuilder: Any) -> None:
    appbuilder.add_view(ProgressView, "Tiến độ xử lý", href="/progress/", category="Văn bản", icon="fa-tasks")
