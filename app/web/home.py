"""The Vietnamese home page: what each role starts its day with."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_appbuilder import IndexView, expose

from app.tenancy import roles as R
from app.tenancy.queries import staff_for_user
from app.workflow.queries import count_inbox

from .auth import current_actor

# What each role sees first: (title, description, link). Links point at pages that exist.
ROLE_TILES: dict[str, list[tuple[str, str, str]]] = {
    R.CLERK: [("Vào sổ văn bản đến", "Tiếp nhận, số hóa và đăng ký văn bản đến", "/inbox/"),
              ("Phát hành văn bản đi", "Cấp số, đăng ký và phát hành văn bản đã ký", "/inbox/")],
    R.LEADER: [("Văn bản chờ phân công", "Giao đơn vị chủ trì, phối hợp và hạn xử lý", "/inbox/"),
               ("Dự thảo chờ phê duyệt", "Xem, phê duyệt hoặc trả lại dự thảo", "/inbox/")],
    R.HEAD: [("Văn bản giao phòng", "Phân công chuyên viên xử lý", "/inbox/"),
             ("Dự thảo chờ xem xét", "Góp ý, trình lãnh đạo hoặc trả lại", "/inbox/")],
    R.SPECIALIST: [("Văn bản cần xử lý", "Xử lý, báo cáo kết quả, dự thảo văn bản trả lời", "/inbox/")],
    R.LEGAL: [("Văn bản chờ thẩm định", "Thẩm định pháp lý trước khi hoàn thành", "/inbox/")],
    R.AGENCY_ADMIN: [("Cơ cấu tổ chức", "Phòng ban, chức vụ, tài khoản cán bộ", "/departmentadminview/list/")],
    R.SOICT_ADMIN: [("Cơ quan sử dụng", "35 cơ quan theo Quyết định 52/2014/QĐ-UBND", "/agencyadminview/list/"),
                    ("Quản trị cơ quan", "Tài khoản quản trị của từng cơ quan", "/agencyaccountview/list/")],
}


class HomeIndexView(IndexView):
    index_template = "home.html"

    @expose("/")
    def index(self) -> Any:
        user = g.user if getattr(g, "user", None) is not None and g.user.is_authenticated else None
        staff = staff_for_user(user.id) if user else None
        role_codes = sorted({r.name for r in user.roles}) if user else []
        tiles = [t for code in role_codes for t in ROLE_TILES.get(code, [])]
        counts = None
        agency = getattr(g, "agency", None)
        if staff is not None and agency is not None and staff.agency_id == agency.id and not agency.is_central:
            actor = current_actor()
            counts = {key: count_inbox(actor, key) for key in ("todo", "in_progress", "overdue")}
        return self.render_template(self.index_template, staff=staff, role_codes=role_codes, tiles=tiles,
                                    counts=counts, appbuilder=self.appbuilder)


def register(appbuilder: Any) -> None:
    """Nothing to add: FAB_INDEX_VIEW points at HomeIndexView."""
