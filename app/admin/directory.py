"""SoICT's directory of organisations outside the deployment (Danh bạ liên thông): import a CSV/XLSX list of mã
định danh, search it, stop or resume an entry. Only SoICT admins hold these permissions (they get every one)."""

from __future__ import annotations

import logging
from typing import Any

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, or_, select
from wtforms import BooleanField

from app.core.errors import DomainError
from app.extensions import db
from app.liaison.directory import import_directory, read_directory
from app.liaison.models import ExternalOrgan

from .maintenance import central_only
from .views import SOICT_MENU

log = logging.getLogger("qlvb.liaison")
PAGE = 50


class DirectoryImportForm(FlaskForm):
    file = FileField("Tệp danh bạ (.xlsx hoặc .csv UTF-8)", validators=[FileRequired(message="Hãy chọn tệp.")])
    full_list = BooleanField("Đây là toàn bộ danh bạ: mã không có trong tệp chuyển sang ngừng dùng")
    dry_run = BooleanField("Chỉ kiểm tra, chưa ghi")


class ToggleForm(FlaskForm):
    pass


class DirectoryView(BaseView):
    route_base = "/directory"
    default_view = "index"
    method_permission_name = {"index": "list", "toggle": "list"}

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self) -> Any:
        central_only()
        form = DirectoryImportForm()
        errors: list[str] = []
        if form.validate_on_submit():
            upload = form.file.data
            try:
                rows = read_directory(upload.read(), upload.filename or "")
                done = import_directory(rows, full_list=bool(form.full_list.data))
            except DomainError as exc:
                db.session.rollback()
                log.warning("directory import by SoICT refused: %s", exc.log)
                errors = [exc.message, *exc.details]
            else:
                summary = (f"{done.added} mới, {done.updated} cập nhật, {done.unchanged} không đổi, "
                           f"{done.deactivated} ngừng dùng, {len(done.skipped_local)} là cơ quan trong hệ thống "
                           "(bỏ qua)")
                if form.dry_run.data:
                    db.session.rollback()
                    flash(f"Kiểm tra tệp đạt, chưa ghi gì: {summary}.", "info")
                else:
                    db.session.commit()
                    flash(f"Đã nhập danh bạ: {summary}.", "success")
                return redirect(url_for("DirectoryView.index"))
        words = (request.args.get("q") or "").strip()[:200]
        page = max(request.args.get("page", 1, type=int) or 1, 1)
        query = select(ExternalOrgan)
        if words:
            like = f"%{words}%"
            query = query.where(or_(ExternalOrgan.name.ilike(like), ExternalOrgan.organ_id.ilike(like),
                                    ExternalOrgan.parent_name.ilike(like)))
        total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        organs = list(db.session.scalars(query.order_by(ExternalOrgan.name, ExternalOrgan.id)
                                         .limit(PAGE).offset((page - 1) * PAGE)))
        return self.render_template("admin/directory.html", form=form, errors=errors, organs=organs, total=total,
                                    words=words, page=page, pages=max((total + PAGE - 1) // PAGE, 1),
                                    toggle_form=ToggleForm())

    @expose("/<int:organ_pk>/toggle", methods=["POST"])
    @has_access
    def toggle(self, organ_pk: int) -> Any:
        central_only()
        organ = db.session.get(ExternalOrgan, organ_pk)
        if organ is None:
            flash("Không tìm thấy cơ quan trong danh bạ.", "danger")
        elif ToggleForm().validate_on_submit():
            organ.active = not organ.active
            db.session.commit()
            flash(f"{organ.name}: {'dùng lại' if organ.active else 'ngừng dùng'}.", "success")
        return redirect(url_for("DirectoryView.index", q=request.args.get("q") or None))


def register(appbuilder: Any) -> None:
    appbuilder.add_view(DirectoryView, "Danh bạ liên thông", category=SOICT_MENU, icon="fa-address-book")
