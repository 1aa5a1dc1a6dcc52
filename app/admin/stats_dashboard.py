"""SoICT's "Thống kê sử dụng" (central domain): all agencies side by side, those below the minimum flagged,
charts, and the same table as XLSX and PDF (QĐ 52/2014 Art 12–13)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, request
from flask_appbuilder import BaseView, expose, has_access

from app.core import clock
from app.core.errors import PermissionDeniedError
from app.stats.errors import StatsPeriodError
from app.stats.export import usage_pdf, usage_xlsx
from app.stats.periods import KINDS, make_period
from app.stats.queries import ProvinceUsageResult, UsageThreshold, province_usage
from app.tenancy import roles as R

from .permissions import register_grants
from .views import SOICT_MENU


def _central_only() -> None:
    agency = getattr(g, "agency", None)
    if agency is None or not agency.is_central:
        raise PermissionDeniedError("Thống kê sử dụng toàn tỉnh chỉ xem trên trang quản trị chung của Sở TTTT.")


def _threshold() -> UsageThreshold:
    cfg = current_app.config

    def number(name: str, config_key: str) -> int:
        raw = request.args.get(name, "") or str(cfg.get(config_key, 1))
        if not raw.isdigit() or int(raw) > 100000:
            raise StatsPeriodError("Ngưỡng tối thiểu phải là số nguyên không âm.")
        return int(raw)

    return UsageThreshold(number("min_in", "QLVB_STATS_MIN_INCOMING"), number("min_out", "QLVB_STATS_MIN_OUTGOING"))


def _result() -> ProvinceUsageResult:
    _central_only()
    period = make_period(request.args.get("kind"), request.args.get("year"), request.args.get("number"),
                         today=clock.today())
    return province_usage(period, _threshold())


def _charts(result: ProvinceUsageResult) -> dict[str, Any]:
    labels = [r.name.replace("Ủy ban nhân dân", "UBND") for r in result.rows]
    flagged = ["#c62828" if not r.meets_minimum else "#1565c0" for r in result.rows]
    use = {"type": "bar", "data": {"labels": labels, "datasets": [
        {"label": "Quy trình văn bản đến", "data": [r.incoming_instances for r in result.rows],
         "backgroundColor": flagged},
        {"label": "Quy trình văn bản đi", "data": [r.outgoing_instances for r in result.rows],
         "backgroundColor": "#90caf9"},
    ]}, "options": {"indexAxis": "y", "responsive": True, "maintainAspectRatio": False,
                    "plugins": {"legend": {"position": "top"}}, "scales": {"x": {"beginAtZero": True}}}}
    rates = {"type": "bar", "data": {"labels": labels, "datasets": [
        {"label": "VB đến điện tử (%)", "data": [r.electronic_rate for r in result.rows], "backgroundColor": "#2e7d32"},
        {"label": "VB đi ký số (%)", "data": [r.signed_rate for r in result.rows], "backgroundColor": "#6a1b9a"},
        {"label": "Xử lý đúng hạn (%)", "data": [r.tasks.on_time_rate for r in result.rows],
         "backgroundColor": "#f9a825"},
    ]}, "options": {"indexAxis": "y", "responsive": True, "maintainAspectRatio": False,
                    "scales": {"x": {"beginAtZero": True, "max": 100, "percent": True}}}}
    return {"use": use, "rates": rates}  # written with ``tojson`` by the template


class UsageDashboardView(BaseView):
    route_base = "/usage"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        result = _result()
        return self.render_template("stats/dashboard.html", result=result, period=result.period, kinds=KINDS,
                                    charts=_charts(result), today=clock.today(), args=request.args.to_dict())

    @expose("/export.xlsx")
    @has_access
    def xlsx(self) -> Any:
        result = _result()
        return Response(usage_xlsx(result), headers={
            "Content-Disposition": f'attachment; filename="thong-ke-su-dung-{result.period.slug}.xlsx"'},
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @expose("/export.pdf")
    @has_access
    def pdf(self) -> Any:
        result = _result()
        return Response(usage_pdf(result), mimetype="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="thong-ke-su-dung-{result.period.slug}.pdf"'})


# Declared explicitly: FAB's automatic creation lost some of this view's permissions on a fresh database.
register_grants(R.SOICT_ADMIN, "UsageDashboardView", ("can_index", "can_xlsx", "can_pdf"))
register_grants(R.SOICT_ADMIN, "Thống kê sử dụng", ("menu_access",))


def register(appbuilder: Any) -> None:
    appbuilder.add_view(UsageDashboardView, "Thống kê sử dụng", href="/usage/", category=SOICT_MENU,
                        icon="fa-bar-chart")
