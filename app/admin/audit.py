"""The audit log in the admin: SoICT queries every agency on the central domain; an agency admin sees only
their own agency's events. Both export CSV and XLSX (and the export itself is audited)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from flask import Response, abort, g, request
from flask_appbuilder import BaseView, expose, has_access

from app.accounts.audit import KIND_LABELS, record_event
from app.accounts.audit_queries import AuditEventInfo, AuditFilter, export_csv, export_xlsx, search_events
from app.core import clock
from app.extensions import db
from app.tenancy import roles as R
from app.tenancy.queries import list_agencies

from .permissions import register_grants

PER_PAGE = 50
# What an audited target is, in words (the stored type is a code; exports keep it for machines).
TARGET_LABELS = {"user": "tài khoản", "staff": "cán bộ", "role": "vai trò", "document": "văn bản",
                 "audit_log": "nhật ký", "maintenance": "lịch bảo trì", "diagram": "quy trình", "form": "biểu mẫu",
                 "department": "phòng ban", "position": "chức vụ", "dossier": "hồ sơ"}


def readable(event: AuditEventInfo) -> AuditEventInfo:
    """The event as the admin page shows it: roles and processes by name, targets in words."""
    from app.designer.diagrams import PROCESS_NAMES

    kind, _, ident = event.target.partition(":")
    if kind == "diagram":
        target = f"quy trình «{PROCESS_NAMES.get(ident, ident)}»"
    elif kind:
        target = f"{TARGET_LABELS.get(kind, 'đối tượng')} số {ident}" if ident.isdigit() else \
            f"{TARGET_LABELS.get(kind, 'đối tượng')} «{ident}»"
    else:
        target = ""
    message = R.ROLE_LABELS.get(event.message, event.message)
    for key, name in PROCESS_NAMES.items():
        message = message.replace(f": {key}", f": {name}")
    return replace(event, target=target, message=message)


def _date(name: str) -> dt.date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=clock.VN_TZ).astimezone(dt.UTC)


def _is_soict() -> bool:
    agency = getattr(g, "agency", None)
    return bool(agency is not None and agency.is_central and any(r.name == R.SOICT_ADMIN for r in g.user.roles))


def current_filter() -> AuditFilter:
    """The query string as a filter, with the agency pinned to the admin's own unless they are SoICT."""
    agency = getattr(g, "agency", None)
    if agency is None:
        abort(404)
    if _is_soict():
        raw = request.args.get("agency_id", "")
        agency_id = int(raw) if raw.isdigit() else None
    else:
        agency_id = agency.id
    since, until = _date("since"), _date("until")
    success = {"1": True, "0": False}.get(request.args.get("success", ""))
    return AuditFilter(agency_id=agency_id, user=(request.args.get("user") or "").strip() or None,
                       kind=(request.args.get("kind") or "").strip() or None,
                       since=_start_of(since) if since else None,
                       until=_start_of(until + dt.timedelta(days=1)) if until else None, success=success)


class AuditLogView(BaseView):
    route_base = "/audit"
    default_view = "list"

    @expose("/")
    @has_access
    def list(self) -> Any:
        flt = current_filter()
        page = request.args.get("page", "0")
        page_no = int(page) if page.isdigit() else 0
        events, total = search_events(flt, page=page_no, per_page=PER_PAGE)
        events = [readable(e) for e in events]
        return self.render_template(
            "admin/audit.html", events=events, total=total, page=page_no, per_page=PER_PAGE, flt=flt,
            kinds=sorted(KIND_LABELS.items(), key=lambda kv: kv[1]), soict=_is_soict(),
            agencies=list_agencies(include_central=True) if _is_soict() else [], args=request.args,
            local_time=lambda at: at.astimezone(clock.VN_TZ).strftime("%d/%m/%Y %H:%M:%S"))

    @expose("/export.<fmt>")
    @has_access
    def export(self, fmt: str) -> Any:
        if fmt not in ("csv", "xlsx"):
            abort(404)
        flt = current_filter()
        body = export_csv(flt) if fmt == "csv" else export_xlsx(flt)
        record_event("export", target_type="audit_log", message=f"Xuất nhật ký hệ thống ({fmt.upper()})",
                     detail={"format": fmt, "filter": {k: str(v) for k, v in flt.__dict__.items() if v is not None}})
        db.session.commit()
        stamp = clock.local_now().strftime("%Y%m%d-%H%M")
        mime = ("text/csv; charset=utf-8" if fmt == "csv"
                else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        return Response(body, mimetype=mime,
                        headers={"Content-Disposition": f'attachment; filename="nhat-ky-{stamp}.{fmt}"'})


def register(appbuilder: Any) -> None:
    appbuilder.add_view(AuditLogView, "Nhật ký hệ thống", category="Cơ cấu tổ chức", icon="fa-history")
    register_grants(R.AGENCY_ADMIN, "AuditLogView", ("can_list", "can_export"))
    register_grants(R.AGENCY_ADMIN, "Nhật ký hệ thống", ("menu_access",))
