"""Thống kê: an agency's usage statistics for its leaders, by department and person (Art 12–13)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder import BaseView, expose, has_access

from app.admin.permissions import register_grants
from app.core import clock
from app.stats.periods import KINDS, make_period
from app.stats.queries import agency_stats
from app.tenancy import roles as R

from .auth import current_actor


def period_from_request() -> Any:
    return make_period(request.args.get("kind"), request.args.get("year"), request.args.get("number"),
                       today=clock.today())


def department_chart(stats: Any) -> dict[str, Any]:
    """The chart's configuration; the template writes it with ``tojson`` (escaped for a <script> element)."""
    rows = [d for d in stats.departments if d.tasks.total]
    return {
        "type": "bar",
        "data": {"labels": [d.name for d in rows], "datasets": [
            {"label": "Đúng hạn", "data": [d.tasks.done_on_time for d in rows], "backgroundColor": "#2e7d32"},
            {"label": "Quá hạn", "data": [d.tasks.done_late for d in rows], "backgroundColor": "#c62828"},
            {"label": "Đang xử lý", "data": [d.tasks.pending for d in rows], "backgroundColor": "#f9a825"},
        ]},
        "options": {"responsive": True, "maintainAspectRatio": False,
                    "scales": {"x": {"stacked": True}, "y": {"stacked": True, "beginAtZero": True}}},
    }


class AgencyStatsView(BaseView):
    route_base = "/stats"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        actor = current_actor()
        period = period_from_request()
        stats = agency_stats(actor.agency_id, period)
        return self.render_template("stats/agency.html", stats=stats, period=period, kinds=KINDS,
                                    chart=department_chart(stats), today=clock.today())


for _role in (R.LEADER, R.AGENCY_ADMIN):
    register_grants(_role, "AgencyStatsView", ("can_index",))
    register_grants(_role, "Thống kê", ("menu_access",))


def register(appbuilder: Any) -> None:
    appbuilder.add_view(AgencyStatsView, "Thống kê", href="/stats/", category="Văn bản", icon="fa-bar-chart")
