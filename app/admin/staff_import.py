"""Bulk import of staff (XLSX/CSV, or people chosen from the LDAP directory): upload, preview, confirm.

An agency admin imports into their own agency on its host; SoICT, on the central host, into any agency it
picks. The confirm answers with the result file (the only copy of the initial passwords)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, abort, current_app, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.accounts import directory
from app.accounts import staff_import as imports
from app.core import clock
from app.core.errors import DomainError, NotFoundError
from app.extensions import db
from app.tenancy import roles as R
from app.tenancy.queries import agency_by_code, list_agencies

from .permissions import register_grants
from .security import password_policy
from .views import ORG_MENU

log = logging.getLogger("qlvb.admin")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _central() -> bool:
    agency = getattr(g, "agency", None)
    return agency is not None and agency.is_central


def _scope() -> int | None:
    """The agency whose imports this admin may see: their host's; None on the central host (SoICT: any)."""
    agency = getattr(g, "agency", None)
    if agency is None:
        abort(404)
    return None if agency.is_central else int(agency.id)


def grantable_here() -> frozenset[str]:
    if _central():
        return R.AGENCY_GRANTABLE | {R.AGENCY_ADMIN}
    return R.agency_admin_grantable({r.name for r in g.user.roles})


def import_limits() -> imports.ImportLimits:
    return imports.ImportLimits.from_config(current_app.config)


def target_agency_id() -> int:
    """Where an upload goes: the host's agency, or on the central host the agency SoICT picked."""
    scope = _scope()
    if scope is not None:
        return scope
    picked = agency_by_code((request.values.get("agency") or "").strip()[:64])
    if picked is None or picked.is_central:
        raise NotFoundError("Hãy chọn cơ quan nhận danh sách cán bộ.")
    return int(picked.id)


def no_store(resp: Any) -> Any:
    """Previews and result files show people's data (and passwords): never kept in a cache."""
    if isinstance(resp, tuple):
        body, status = resp
        return Response(body, status=status, headers={"Cache-Control": "no-store"})
    resp.headers["Cache-Control"] = "no-store"
    return resp


class StaffImportView(BaseView):
    route_base = "/staffimport"
    default_view = "index"
    class_permission_name = "StaffImportView"
    method_permission_name = {"index": "import", "template": "import", "upload": "import", "show": "import",
                              "confirm": "import", "directory": "import", "directory_preview": "import"}

    def _agencies(self) -> list[Any]:
        return [a for a in list_agencies() if not a.is_central] if _central() else []

    @expose("/", methods=["GET"])
    @has_access
    def index(self) -> Any:
        _scope()
        return self.render_template("admin/staff_import.html", agencies=self._agencies(), limits=import_limits(),
                                    directory=self._directory_enabled(), error=None)

    @expose("/template.<fmt>", methods=["GET"])
    @has_access
    def template(self, fmt: str) -> Any:
        if fmt not in ("xlsx", "csv"):
            abort(404)
        if fmt == "csv":
            body, mime = imports.template_csv(), "text/csv; charset=utf-8"
        else:
            body, mime = imports.template_xlsx(target_agency_id() if not _central() or request.args.get("agency")
                                               else 0, grantable_here()), XLSX_MIME
        return Response(body, mimetype=mime,
                        headers={"Content-Disposition": f'attachment; filename="mau-nhap-can-bo.{fmt}"'})

    @expose("/upload", methods=["POST"])
    @has_access
    def upload(self) -> Any:
        upload = request.files.get("file")
        try:
            agency_id = target_agency_id()
            data = upload.read(import_limits().max_bytes + 1) if upload else b""
            preview = imports.start_import(agency_id=agency_id, filename=upload.filename if upload else "",
                                           data=data, grantable=grantable_here(), limits=import_limits(),
                                           acting_user_id=g.user.id)
        except DomainError as exc:
            db.session.rollback()
            log.info("staff import upload by %s refused: %s", g.user.username, exc.log)
            return self.render_template("admin/staff_import.html", agencies=self._agencies(),
                                        limits=import_limits(), directory=self._directory_enabled(),
                                        error=exc), exc.http_status
        db.session.commit()
        return redirect(url_for("StaffImportView.show", import_id=preview.import_id))

    @expose("/<int:import_id>/", methods=["GET"])
    @has_access
    def show(self, import_id: int) -> Any:
        preview = imports.preview_import(import_id, agency_id=_scope(), grantable=grantable_here(),
                                         limits=import_limits())
        return no_store(self._render_preview(preview, None, 200))

    def _render_preview(self, preview: imports.ImportPreview, error: DomainError | None, status: int) -> Any:
        return self.render_template("admin/staff_import_preview.html", preview=preview, error=error,
                                    local_time=lambda at: at.astimezone(clock.VN_TZ).strftime("%H:%M %d/%m/%Y")
                                    ), status

    @expose("/<int:import_id>/confirm", methods=["POST"])
    @has_access
    def confirm(self, import_id: int) -> Any:
        scope = _scope()
        try:
            result = imports.confirm_import(import_id, agency_id=scope, token=request.form.get("token", "")[:128],
                                            grantable=grantable_here(), policy=password_policy(),
                                            limits=import_limits(), acting_user_id=g.user.id)
            body = imports.result_xlsx(result)
        except DomainError as exc:
            db.session.rollback()
            log.info("staff import %s confirm by %s refused: %s", import_id, g.user.username, exc.log)
            if isinstance(exc, NotFoundError):
                raise
            preview = imports.preview_import(import_id, agency_id=scope, grantable=grantable_here(),
                                             limits=import_limits())
            return no_store(self._render_preview(preview, exc, exc.http_status))
        db.session.commit()
        log.info("staff import %s confirmed by %s: %d accounts", import_id, g.user.username, len(result.accounts))
        stamp = clock.local_now().strftime("%Y%m%d-%H%M")
        resp = Response(body, mimetype=XLSX_MIME, headers={
            "Content-Disposition": f'attachment; filename="tai-khoan-da-tao-{stamp}.xlsx"'})
        return no_store(resp)

    # --- the LDAP directory ----------------------------------------------------------------------------------

    @staticmethod
    def _directory_enabled() -> bool:
        return str(current_app.config.get("QLVB_AUTH", "db")).startswith("ldap") and bool(
            current_app.config.get("AUTH_LDAP_SERVER"))

    def _directory_settings(self) -> directory.DirectorySettings:
        if not self._directory_enabled():
            abort(404)
        return directory.DirectorySettings.from_config(current_app.config)

    @expose("/directory", methods=["GET"])
    @has_access
    def directory(self) -> Any:
        _scope()
        settings = self._directory_settings()
        unit, group = request.args.get("unit", "")[:1000], request.args.get("group", "")[:1000]
        text = request.args.get("q", "")[:100]
        searched = bool(unit or group or text or request.args.get("all"))
        try:
            units, groups = directory.list_units(settings), directory.list_groups(settings)
            people = directory.search_people(settings, unit_dn=unit, group_dn=group, text=text) if searched else []
        except DomainError as exc:
            log.info("directory search by %s refused: %s", g.user.username, exc.log)
            return no_store(self._render_directory([], [], [], set(), exc, exc.http_status))
        taken = imports.existing_names({p.email for p in people if p.email})
        return no_store(self._render_directory(units, groups, people, taken, None, 200, searched=searched))

    def _render_directory(self, units: list[Any], groups: list[Any], people: list[Any], taken: set[str],
                          error: DomainError | None, status: int, *, searched: bool = False) -> Any:
        roles = [(c, R.role_label(c)) for c in sorted(grantable_here()) if c != R.SOICT_ADMIN]
        return self.render_template("admin/staff_import_directory.html", units=units, groups=groups, people=people,
                                    taken=taken, error=error, roles=roles, agencies=self._agencies(),
                                    searched=searched, args=request.args), status

    @expose("/directory/preview", methods=["POST"])
    @has_access
    def directory_preview(self) -> Any:
        settings = self._directory_settings()
        dns = request.form.getlist("dn")[:import_limits().max_rows + 1]
        roles = [r for r in request.form.getlist("roles") if r in grantable_here()]
        try:
            agency_id = target_agency_id()
            people = directory.people_by_dn(settings, dns)
            rows = [{**p.as_row(), "roles": ",".join(roles)} for p in people]
            preview = imports.start_directory_import(
                agency_id=agency_id, people=rows, label=f"Thư mục cán bộ ({len(rows)} người)",
                grantable=grantable_here(), limits=import_limits(), acting_user_id=g.user.id)
        except DomainError as exc:
            db.session.rollback()
            log.info("directory import by %s refused: %s", g.user.username, exc.log)
            if isinstance(exc, NotFoundError):
                raise
            return no_store(self._render_directory([], [], [], set(), exc, exc.http_status))
        db.session.commit()
        return redirect(url_for("StaffImportView.show", import_id=preview.import_id))


def register(appbuilder: Any) -> None:
    appbuilder.add_view(StaffImportView, "Nhập danh sách cán bộ", category=ORG_MENU, icon="fa-upload")
    register_grants(R.AGENCY_ADMIN, "StaffImportView", ("can_import",))
    register_grants(R.AGENCY_ADMIN, "Nhập danh sách cán bộ", ("menu_access",))
