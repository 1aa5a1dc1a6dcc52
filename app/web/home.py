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
    R.CLERK: [("Vào sổ văn bản đến", "Tiếp nhận, số hóa và đăng ký văn bản đến", "/documents/incoming/new"),
              ("Văn bản đi", "Cấp số, ký số cơ quan và phát hành văn bản đã ký", "/documents/outgoing/"),
              ("Sổ văn bản", "In sổ đăng ký văn bản đến, đi theo Phụ lục IV", "/documents/registers/")],
    R.LEADER: [("Tiến độ xử lý", "Văn bản, công việc quá hạn trong cơ quan", "/progress/"),
               ("Giao việc", "Giao nhiệm vụ, theo dõi báo cáo tiến độ", "/assignments/"),
               ("Thống kê", "Số liệu xử lý văn bản theo phòng ban, cá nhân", "/stats/")],
    R.HEAD: [("Tiến độ xử lý", "Việc đang chờ trong phòng", "/progress/"),
             ("Lịch công tác", "Lịch tuần của lãnh đạo và phòng", "/calendar/")],
    R.SPECIALIST: [("Dự thảo văn bản đi", "Soạn dự thảo và trình duyệt", "/documents/outgoing/new"),
                   ("Xin ý kiến", "Gửi dự thảo xin ý kiến góp ý", "/opinions/")],
    R.LEGAL: [("Văn bản đến", "Văn bản chờ thẩm định pháp lý", "/inbox/")],
    R.AGENCY_ADMIN: [("Cơ cấu tổ chức", "Phòng ban, chức vụ, tài khoản cán bộ", "/departmentadminview/list/"),
                     ("Thiết kế quy trình", "Sửa luồng xử lý văn bản, biểu mẫu; ban hành phiên bản", "/designer/")],
    R.SOICT_ADMIN: [("Cơ quan sử dụng", "35 cơ quan theo Quyết định 52/2014/QĐ-UBND", "/agencyadminview/list/"),
                    ("Quản trị cơ quan", "Tài khoản quản trị của từng cơ quan", "/agencyaccountview/list/"),
                    ("Quy trình mẫu", "Ban hành quy trình mẫu cho các cơ quan", "/designer/"),
                    ("Thống kê sử dụng", "So sánh mức sử dụng của các cơ quan (Điều 12, 13)", "/usage/")],
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
