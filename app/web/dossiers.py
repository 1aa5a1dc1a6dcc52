"""Hồ sơ công việc: the yearly dossier list, one dossier with its documents, filing, closing, exports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, Response, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.admin.permissions import register_common_grants
from app.core import clock
from app.core.errors import ValidationError
from app.dossiers import services
from app.dossiers.export import dossier_list_pdf, dossier_package, dossier_pdf, dossier_xml
from app.dossiers.models import ACCESS_LEVELS, RETENTIONS, STATUSES
from app.dossiers.queries import (
    dossier_contents,
    dossier_years,
    dossiers_due_for_deposit,
    filing_choices_for,
    get_dossier,
    list_dossiers,
)
from app.extensions import db
from app.tenancy.queries import departments_of

from .auth import current_actor

VIEWS_THAT_SEE_DEPOSITS = frozenset({"clerk", "leader", "agency_admin"})


def _date(name: str) -> dt.date | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError("Ngày phải có dạng năm-tháng-ngày.", field_errors={name: ["Không hợp lệ."]}) from None


def _int(value: str | None, label: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ValidationError(f"{label} không hợp lệ.")
    return int(value)


def _back(default: str) -> Any:
    target = request.form.get("next") or ""
    # Only a path on this host: never an open redirect.
    return redirect(target if target.startswith("/") and not target.startswith("//") else default)


class DossierView(BaseView):
    route_base = "/dossiers"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        actor = current_actor()
        year = _int(request.args.get("year"), "Năm") or clock.today().year
        status = request.args.get("status") or None
        due = (dossiers_due_for_deposit(clock.today(), 30, agency_id=actor.agency_id)
               if VIEWS_THAT_SEE_DEPOSITS & actor.roles else [])
        return self.render_template(
            "dossiers/index.html", year=year, status=status, dossiers=list_dossiers(actor, year, status=status),
            years=sorted(set(dossier_years(actor)) | {clock.today().year, year}, reverse=True),
            retentions=RETENTIONS, access_levels=ACCESS_LEVELS, statuses=STATUSES,
            departments=departments_of(actor.agency_id), due=due, today=clock.today())

    @expose("/new", methods=["POST"])
    @has_access
    def new(self) -> Any:
        actor = current_actor()
        f = request.form
        dossier = services.create_dossier(
            actor, title=f.get("title", ""), retention=f.get("retention", ""), year=_int(f.get("year"), "Năm"),
            code=f.get("code") or None, access=f.get("access", "noi_bo"),
            department_id=_int(f.get("department_id"), "Phòng ban"), opened_on=_date("opened_on"),
            note=f.get("note", ""))
        db.session.commit()
        flash(f"Đã lập hồ sơ {dossier.code}: {dossier.title}.", "success")
        return redirect(url_for("DossierView.show", dossier_id=dossier.id))

    @expose("/<int:dossier_id>")
    @has_access
    def show(self, dossier_id: int) -> Any:
        actor = current_actor()
        dossier = get_dossier(actor, dossier_id)
        return self.render_template("dossiers/show.html", dossier=dossier,
                                    entries=dossier_contents(actor, dossier_id), retentions=RETENTIONS,
                                    access_levels=ACCESS_LEVELS, today=clock.today(),
                                    may_deposit="clerk" in actor.roles)

    @expose("/<int:dossier_id>/edit", methods=["POST"])
    @has_access
    def edit(self, dossier_id: int) -> Any:
        f = request.form
        services.update_dossier(current_actor(), dossier_id, title=f.get("title", ""),
                                retention=f.get("retention", ""), access=f.get("access", ""), note=f.get("note", ""))
        db.session.commit()
        flash("Đã cập nhật thông tin hồ sơ.", "success")
        return redirect(url_for("DossierView.show", dossier_id=dossier_id))

    @expose("/<int:dossier_id>/close", methods=["POST"])
    @has_access
    def close(self, dossier_id: int) -> Any:
        d = services.close_dossier(current_actor(), dossier_id, closed_on=_date("closed_on"))
        db.session.commit()
        flash(f"Đã đóng hồ sơ {d.code}; hạn nộp lưu cơ quan: {d.deposit_due_on:%d/%m/%Y}.", "success")
        return redirect(url_for("DossierView.show", dossier_id=dossier_id))

    @expose("/<int:dossier_id>/reopen", methods=["POST"])
    @has_access
    def reopen(self, dossier_id: int) -> Any:
        services.reopen_dossier(current_actor(), dossier_id)
        db.session.commit()
        flash("Đã mở lại hồ sơ.", "success")
        return redirect(url_for("DossierView.show", dossier_id=dossier_id))

    @expose("/<int:dossier_id>/deposit", methods=["POST"])
    @has_access
    def deposit(self, dossier_id: int) -> Any:
        services.record_deposit(current_actor(), dossier_id, deposited_on=_date("deposited_on"))
        db.session.commit()
        flash("Đã ghi nhận nộp lưu hồ sơ vào Lưu trữ cơ quan.", "success")
        return redirect(url_for("DossierView.show", dossier_id=dossier_id))

    @expose("/file", methods=["POST"])
    @has_access
    def file(self) -> Any:
        actor = current_actor()
        dossier_id = _int(request.form.get("dossier_id"), "Hồ sơ")
        document_id = _int(request.form.get("document_id"), "Văn bản")
        if dossier_id is None or document_id is None:
            raise ValidationError("Hãy chọn hồ sơ để đưa văn bản vào.")
        d = services.file_document(actor, dossier_id, document_id)
        db.session.commit()
        flash(f"Đã đưa văn bản vào hồ sơ {d.code}: {d.title}.", "success")
        return _back(url_for("DossierView.show", dossier_id=dossier_id))

    @expose("/<int:dossier_id>/documents/<int:document_id>/remove", methods=["POST"])
    @has_access
    def unfile(self, dossier_id: int, document_id: int) -> Any:
        services.unfile_document(current_actor(), dossier_id, document_id)
        db.session.commit()
        flash("Đã bỏ văn bản khỏi hồ sơ (văn bản vẫn còn trong sổ).", "success")
        return redirect(url_for("DossierView.show", dossier_id=dossier_id))

    @expose("/<int:dossier_id>/documents/<int:document_id>/move", methods=["POST"])
    @has_access
    def move(self, dossier_id: int, document_id: int) -> Any:
        position = _int(request.form.get("position"), "Vị trí") or 1
        services.move_document(current_actor(), dossier_id, document_id, position)
        db.session.commit()
        return redirect(url_for("DossierView.show", dossier_id=dossier_id))

    @expose("/<int:dossier_id>/export.pdf")
    @has_access
    def export_pdf(self, dossier_id: int) -> Any:
        actor = current_actor()
        d = get_dossier(actor, dossier_id)
        return Response(dossier_pdf(actor, dossier_id), mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="ho-so-{d.year}-{d.code}.pdf"'})

    @expose("/<int:dossier_id>/package.zip")
    @has_access
    def export_package(self, dossier_id: int) -> Any:
        actor = current_actor()
        d = get_dossier(actor, dossier_id)
        return Response(dossier_package(actor, dossier_id), mimetype="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="ho-so-{d.year}-{d.code}.zip"'})

    @expose("/<int:dossier_id>/export.xml")
    @has_access
    def export_xml(self, dossier_id: int) -> Any:
        actor = current_actor()
        d = get_dossier(actor, dossier_id)
        return Response(dossier_xml(actor, dossier_id), mimetype="application/xml",
                        headers={"Content-Disposition": f'attachment; filename="ho-so-{d.year}-{d.code}.xml"'})

    @expose("/list.pdf")
    @has_access
    def list_pdf(self) -> Any:
        year = _int(request.args.get("year"), "Năm") or clock.today().year
        return Response(dossier_list_pdf(current_actor(), year), mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="danh-muc-ho-so-{year}.pdf"'})


register_common_grants("DossierView", ("can_index", "can_new", "can_show", "can_edit", "can_close", "can_reopen",
                                       "can_deposit", "can_file", "can_unfile", "can_move", "can_export_pdf",
                                       "can_export_package", "can_export_xml", "can_list_pdf"))
register_common_grants("Hồ sơ công việc", ("menu_access",))


def filing_choices(document_id: int) -> dict[str, Any]:
    """For dossiers/_file_into.html: the open dossiers the official may file into, and those holding the document."""
    user = getattr(g, "user", None)
    agency = getattr(g, "agency", None)
    if user is None or not user.is_authenticated or agency is None or agency.is_central:
        return {"open": [], "holding": []}
    filing, holding = filing_choices_for(current_actor(), document_id)
    return {"open": filing, "holding": holding}


def install(app: Flask, appbuilder: Any) -> None:
    # A template global (not a context processor) so the imported macro sees it without "with context".
    app.add_template_global(filing_choices, "dossier_filing_choices")

    appbuilder.add_view(DossierView, "Hồ sơ công việc", href="/dossiers/", category="Văn bản", icon="fa-folder-open")
