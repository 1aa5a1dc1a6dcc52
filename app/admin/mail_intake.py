"""Hộp thư nhận văn bản: the agency admin's IMAP mailboxes (with "Kiểm tra kết nối") and the messages taken."""

from __future__ import annotations

import logging
from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import ModelView
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from wtforms import BooleanField, PasswordField, SelectField
from wtforms.validators import Optional

from app.core.errors import DomainError
from app.extensions import db
from app.intake import services as intake
from app.intake.models import Mailbox, MailMessage
from app.tenancy import roles as R

from .permissions import register_grants
from .scoping import AgencyScopedMixin, current_agency_id, on_agency_host
from .values import VietnameseValues

log = logging.getLogger("qlvb.admin.mail")

MAIL_MENU = "Thư điện tử đến"
SECURITY_LABELS = {"ssl": "SSL/TLS (cổng 993)", "starttls": "STARTTLS (cổng 143)", "none": "Không mã hóa"}
RESULT_LABELS = {"accepted": "Đã nhận, chờ vào sổ", "refused": "Từ chối"}


class MailboxAdminView(VietnameseValues, AgencyScopedMixin, ModelView):
    datamodel = SQLAInterface(Mailbox)
    route_base = "/mailboxadminview"
    list_title = "Hộp thư nhận văn bản"
    show_title = "Thông tin hộp thư"
    add_title = "Thêm hộp thư"
    edit_title = "Sửa hộp thư"
    list_columns = ["name", "username", "host", "active", "last_polled_at", "last_error"]
    add_columns = edit_columns = ["name", "host", "port", "security", "username", "password", "password_ref",
                                  "folder", "processed_folder", "active"]
    show_columns = ["name", "host", "port", "security", "username", "password_ref", "folder", "processed_folder",
                    "active", "last_polled_at", "last_error"]
    label_columns = {
        "name": "Tên hộp thư", "host": "Máy chủ IMAP", "port": "Cổng", "security": "Bảo mật kết nối",
        "username": "Tên đăng nhập", "password": "Mật khẩu", "password_ref": "Biến môi trường chứa mật khẩu",
        "folder": "Thư mục nhận thư", "processed_folder": "Thư mục thư đã xử lý", "active": "Đang hoạt động",
        "last_polled_at": "Lần đọc gần nhất", "last_error": "Lỗi gần nhất",
    }
    description_columns = {
        "password": "Được mã hóa khi lưu; để trống khi sửa nếu không đổi mật khẩu.",
        "password_ref": "Tùy chọn, thay cho mật khẩu: tên biến môi trường trên máy chủ, dạng "
                        "QLVB_MAIL_PASSWORD_<TÊN>.",
        "processed_folder": "Thư đã đọc (nhận hoặc từ chối) được chuyển vào đây, không bao giờ nhận lại.",
    }
    formatters_columns = {"security": lambda v: SECURITY_LABELS.get(v, v)}
    add_form_extra_fields = edit_form_extra_fields = {
        "security": SelectField("Bảo mật kết nối", choices=list(SECURITY_LABELS.items()), default="ssl"),
        "password": PasswordField("Mật khẩu", widget=BS3PasswordFieldWidget(), validators=[Optional()]),
        "active": BooleanField("Đang hoạt động", default=True,
                               description="Bỏ chọn để tạm dừng việc đọc hộp thư này."),
    }

    def process_form(self, form: Any, is_created: bool) -> None:
        self._password = (form.password.data or "") if hasattr(form, "password") else ""

    def _validate(self, item: Any) -> None:
        try:
            intake.validate_settings(item, new_password=getattr(self, "_password", "") or None)
        except DomainError:
            db.session.rollback()
            raise
        finally:
            self._password = ""
        if hasattr(item, "password"):
            del item.password  # what the form set on the row; only the sealed value is kept

    def pre_add(self, item: Any) -> None:
        super().pre_add(item)
        self._validate(item)

    def pre_update(self, item: Any) -> None:
        super().pre_update(item)
        self._validate(item)

    @action("check_connection", "Kiểm tra kết nối", "", "fa-plug", multiple=False, single=True)
    def check_connection(self, item: Any) -> Any:
        if request.method != "POST":  # it reaches out to another server: never on a link
            return redirect(url_for(f"{self.endpoint}.list"))
        row = item[0] if isinstance(item, list) else item
        if row is None or row.agency_id != current_agency_id():
            return redirect(url_for(f"{self.endpoint}.list"))
        try:
            waiting = intake.test_mailbox(int(row.id), current_agency_id())
        except DomainError as exc:
            db.session.rollback()
            log.warning("mailbox %s connection check by %s failed: %s", row.id, g.user.username, exc.log)
            flash(f"Kiểm tra kết nối không thành công: {exc.message}", "danger")
            return redirect(url_for(f"{self.endpoint}.show", pk=row.id))
        log.info("mailbox %s connection check by %s: %d unseen", row.id, g.user.username, waiting)
        flash(f"Kết nối thành công: đăng nhập được, thư mục “{row.folder}” có {waiting} thư chưa đọc.", "success")
        return redirect(url_for(f"{self.endpoint}.show", pk=row.id))


class MailMessageAdminView(VietnameseValues, AgencyScopedMixin, ModelView):
    datamodel = SQLAInterface(MailMessage)
    route_base = "/mailmessageadminview"
    list_title = "Thư điện tử đã đọc"
    show_title = "Thư điện tử"
    base_permissions = ["can_list", "can_show"]
    base_order = ("id", "desc")
    list_columns = ["received_at", "sender", "subject", "result", "reason"]
    show_columns = ["received_at", "mailbox", "sender", "subject", "result", "reason", "document_id"]
    search_columns = ["sender", "subject", "result"]
    label_columns = {"received_at": "Thời điểm nhận", "mailbox": "Hộp thư", "sender": "Người gửi",
                     "subject": "Tiêu đề", "result": "Kết quả", "reason": "Lý do từ chối",
                     "document_id": "Văn bản chờ vào sổ"}
    formatters_columns = {"result": lambda v: RESULT_LABELS.get(v, v)}


def register(appbuilder: Any) -> None:
    appbuilder.add_view(MailboxAdminView, "Hộp thư nhận văn bản", category=MAIL_MENU, icon="fa-envelope",
                        category_icon="fa-envelope", menu_cond=on_agency_host)
    appbuilder.add_view(MailMessageAdminView, "Thư đã đọc", category=MAIL_MENU, icon="fa-inbox",
                        menu_cond=on_agency_host)
    register_grants(R.AGENCY_ADMIN, "MailboxAdminView",
                    ("can_list", "can_show", "can_add", "can_edit", "can_delete", "check_connection"))
    register_grants(R.AGENCY_ADMIN, "MailMessageAdminView", ("can_list", "can_show"))
    for menu in (MAIL_MENU, "Hộp thư nhận văn bản", "Thư đã đọc"):
        register_grants(R.AGENCY_ADMIN, menu, ("menu_access",))
