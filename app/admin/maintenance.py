"""SoICT schedules maintenance windows (Art 10.1) on the central domain; users see a banner and an e-mail."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, flash, g, redirect, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.accounts import maintenance
from app.core import clock
from app.core.errors import DomainError, PermissionDeniedError
from app.extensions import db

from .views import SOICT_MENU


class MaintenanceForm(FlaskForm):
    title = StringField("Tiêu đề", validators=[DataRequired(message="Trường này là bắt buộc."), Length(max=255)])
    starts_at = DateTimeLocalField("Bắt đầu (giờ Việt Nam)", format="%Y-%m-%dT%H:%M",
                                   validators=[DataRequired(message="Nhập thời điểm bắt đầu.")])
    ends_at = DateTimeLocalField("Kết thúc (giờ Việt Nam)", format="%Y-%m-%dT%H:%M",
                                 validators=[DataRequired(message="Nhập thời điểm kết thúc.")])
    message = TextAreaField("Nội dung thông báo", validators=[Length(max=4000)])


class CancelForm(FlaskForm):
    pass


def smtp_settings() -> maintenance.SmtpSettings:
    cfg = current_app.config
    return maintenance.SmtpSettings(host=cfg.get("QLVB_SMTP_HOST", ""), port=int(cfg.get("QLVB_SMTP_PORT", 25)),
                                    mail_from=cfg.get("QLVB_MAIL_FROM", "qlvb@vinhphuc.gov.vn"))


def central_only() -> None:
    agency = getattr(g, "agency", None)
    if agency is None or not agency.is_central:
        raise PermissionDeniedError("Chức năng này chỉ dùng trên trang quản trị chung của Sở TTTT.")


def _vn(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=clock.VN_TZ).astimezone(dt.UTC)


class MaintenanceView(BaseView):
    route_base = "/maintenance"
    default_view = "list"
    # One permission for the page and its actions (only SoICT admins hold it).
    method_permission_name = {"list": "list", "cancel": "list"}

    @expose("/", methods=["GET", "POST"])
    @has_access
    def list(self) -> Any:
        central_only()
        form = MaintenanceForm()
        errors: list[str] = []
        if form.validate_on_submit():
            try:
                info = maintenance.schedule_maintenance(
                    starts_at=_vn(form.starts_at.data), ends_at=_vn(form.ends_at.data), title=form.title.data,
                    message=form.message.data or "", by_user_id=g.user.id)
            except DomainError as exc:
                db.session.rollback()
                errors.append(exc.message)
            else:
                db.session.commit()
                flash(f"Đã lên lịch bảo trì “{info.title}”.", "success")
                self._notify()
                return redirect(url_for("MaintenanceView.list"))
        return self.render_template("admin/maintenance.html", form=form, errors=errors,
                                    windows=maintenance.all_windows(), cancel_form=CancelForm(),
                                    notice_days=maintenance.NOTICE_DAYS,
                                    local_time=lambda at: at.astimezone(clock.VN_TZ).strftime("%H:%M %d/%m/%Y"))

    def _notify(self) -> None:
        settings = smtp_settings()
        if not settings.host:
            flash("Chưa cấu hình QLVB_SMTP_HOST: thư thông báo sẽ được gửi khi chạy “flask qlvb maintenance "
                  "notify”.", "warning")
            return
        try:
            sent = maintenance.send_maintenance_notices(clock.now(), settings)
        except (DomainError, OSError) as exc:
            db.session.rollback()
            flash(f"Chưa gửi được thư thông báo: {exc}. Hệ thống sẽ thử lại.", "danger")
            return
        db.session.commit()
        flash(f"Đã gửi {sent} thư thông báo bảo trì.", "success")

    @expose("/<int:window_id>/cancel", methods=["POST"])
    @has_access
    def cancel(self, window_id: int) -> Any:
        central_only()
        if CancelForm().validate_on_submit():
            maintenance.cancel_maintenance(window_id)
            db.session.commit()
            flash("Đã hủy lịch bảo trì.", "success")
        return redirect(url_for("MaintenanceView.list"))


def register(appbuilder: Any) -> None:
    # Only SoICT admins hold these permissions (they get every permission); nothing is granted to agencies.
    appbuilder.add_view(MaintenanceView, "Lịch bảo trì", category=SOICT_MENU, icon="fa-wrench")
