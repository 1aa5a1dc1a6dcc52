"""Org structure in the admin (Art 11.5): agency admins edit their own; SoICT edits agencies and their admins."""

from __future__ import annotations

import logging
from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import ModelView
from flask_appbuilder.actions import action
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, Select2ManyWidget
from flask_appbuilder.models.sqla.filters import FilterEqualFunction
from flask_appbuilder.models.sqla.interface import SQLAInterface
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.accounts import services as accounts
from app.core.errors import DomainError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.tenancy import roles as R
from app.tenancy.models import Agency, Department, Position, Staff
from app.tenancy.services import SIGNING_METHODS, set_signing_method

from .scoping import AgencyScopedMixin, current_agency_id
from .security import password_policy
from .values import VietnameseValues


class _WordedBlankChoice:
    """FAB's relation selects show their empty choice as "__None"; give it words."""

    blank_choice_text = "— Không chọn —"

    def _init_forms(self) -> None:
        super()._init_forms()  # type: ignore[misc]
        for form in (self.add_form, self.edit_form):  # type: ignore[attr-defined]
            for field in vars(form).values():
                if isinstance(field, UnboundField) and issubclass(field.field_class, QuerySelectField):
                    field.kwargs.setdefault("blank_text", self.blank_choice_text)


def _active_field(description: str) -> BooleanField:
    """FAB makes a non-null boolean column "required", so unticking it could never be saved."""
    return BooleanField("Đang hoạt động", default=True, description=description)


log = logging.getLogger("qlvb.admin")

ORG_MENU = "Cơ cấu tổ chức"
AGENCY_KINDS = {"so": "Sở", "ban": "Ban, ngành", "district": "UBND cấp huyện", "department": "Cơ quan khác",
                "central": "Quản trị tỉnh (Sở TTTT)"}
NUMBERING_POLICIES = {"single": "Một dãy số chung cho mọi loại văn bản", "per_type": "Mỗi loại văn bản một dãy số"}
SOICT_MENU = "Quản trị tỉnh"


def _refuse(message: str) -> None:
    db.session.rollback()
    raise PermissionDeniedError(message)


def _org_guard(item: Any, action: str) -> None:
    """Routing must stay runnable (app.designer refuses breaking changes) and every org change is logged."""
    from app.designer.org_guard import guard_and_record

    try:
        guard_and_record(item, action, actor_id=g.user.id)
    except DomainError:
        db.session.rollback()
        raise


class DepartmentAdminView(VietnameseValues, _WordedBlankChoice, AgencyScopedMixin, ModelView):
    datamodel = SQLAInterface(Department)
    route_base = "/departmentadminview"
    list_title = "Phòng ban, đơn vị"
    show_title = "Thông tin phòng ban"
    add_title = "Thêm phòng ban"
    edit_title = "Sửa phòng ban"
    list_columns = ["name", "abbreviation", "code", "parent", "active"]
    add_columns = edit_columns = ["code", "name", "abbreviation", "parent", "sort_order", "active"]
    show_columns = ["code", "name", "abbreviation", "parent", "sort_order", "active"]
    search_columns = ["name", "code", "abbreviation"]
    order_columns = ["name", "code"]
    label_columns = {"code": "Mã", "name": "Tên phòng ban", "abbreviation": "Viết tắt", "parent": "Trực thuộc",
                     "sort_order": "Thứ tự", "active": "Đang hoạt động"}
    add_form_query_rel_fields = edit_form_query_rel_fields = {
        "parent": [["agency_id", FilterEqualFunction, current_agency_id]]
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "active": _active_field("Bỏ chọn khi phòng ban ngừng hoạt động (sáp nhập, giải thể): không còn được chọn "
                                "khi giao việc; văn bản và lịch sử xử lý được giữ nguyên."),
    }

    def pre_add(self, item: Any) -> None:
        super().pre_add(item)
        _org_guard(item, "create")

    def pre_update(self, item: Any) -> None:
        super().pre_update(item)
        _org_guard(item, "update")

    def pre_delete(self, item: Any) -> None:
        super().pre_delete(item)
        if db.session.query(Staff).filter(Staff.department_id == item.id).count():
            _refuse(f"Không thể xóa “{item.name}” vì còn cán bộ thuộc phòng ban này; "
                    "hãy chuyển cán bộ sang phòng ban khác hoặc đánh dấu ngừng hoạt động.")
        _org_guard(item, "delete")


class PositionAdminView(VietnameseValues, AgencyScopedMixin, ModelView):
    datamodel = SQLAInterface(Position)
    route_base = "/positionadminview"
    list_title = "Chức vụ"
    add_title = "Thêm chức vụ"
    edit_title = "Sửa chức vụ"
    show_title = "Thông tin chức vụ"
    # The code is the key agencies/*.yaml and the diagrams use: edited in the form, not read in lists.
    list_columns = ["name", "role"]
    add_columns = edit_columns = ["code", "name", "role", "sort_order"]
    show_columns = ["name", "role", "sort_order"]
    label_columns = {"code": "Mã", "name": "Tên chức vụ", "role": "Vai trò xử lý", "sort_order": "Thứ tự"}
    formatters_columns = {"role": lambda v: R.role_label(v) if v else ""}
    add_form_extra_fields = edit_form_extra_fields = {
        "role": SelectField(
            "Vai trò xử lý",
            choices=[("", "— Không tham gia luồng xử lý —")] + [(c, R.role_label(c)) for c in sorted(R.WORKFLOW_ROLES)],
            validators=[Optional()],
        )
    }

    def pre_add(self, item: Any) -> None:
        item.role = item.role or None
        super().pre_add(item)
        _org_guard(item, "create")

    def pre_update(self, item: Any) -> None:
        item.role = item.role or None
        super().pre_update(item)
        _org_guard(item, "update")

    def pre_delete(self, item: Any) -> None:
        super().pre_delete(item)
        _org_guard(item, "delete")


class _StaffAccountBase(VietnameseValues, _WordedBlankChoice, ModelView):
    """Staff plus their login account (ab_user: username = official e-mail)."""

    datamodel = SQLAInterface(Staff)
    grantable_roles: frozenset[str] = R.AGENCY_GRANTABLE
    list_columns = ["full_name", "email", "department", "position", "active"]
    show_columns = ["full_name", "email", "phone", "department", "position", "active", "revoked_at"]
    add_columns = ["full_name", "email", "phone", "department", "position", "roles", "password"]
    edit_columns = ["full_name", "email", "phone", "department", "position", "roles", "active", "signing_method",
                    "remote_credential_id"]
    search_columns = ["full_name", "email"]
    order_columns = ["full_name", "email"]
    label_columns = {"full_name": "Họ và tên", "email": "Thư điện tử công vụ", "phone": "Điện thoại",
                     "department": "Phòng ban", "position": "Chức vụ", "active": "Đang hoạt động",
                     "revoked_at": "Thu hồi lúc", "roles": "Vai trò", "password": "Mật khẩu ban đầu",
                     "agency": "Cơ quan", "signing_method": "Cách ký số cá nhân",
                     "remote_credential_id": "Mã chứng thư trên dịch vụ ký số từ xa"}
    validators_columns = {"email": [DataRequired(message="Trường này là bắt buộc."),
                                    Email(message="Địa chỉ thư điện tử không hợp lệ.")]}

    @classmethod
    def _role_field(cls) -> SelectMultipleField:
        return SelectMultipleField(
            "Vai trò",
            choices=[(c, R.role_label(c)) for c in sorted(cls.grantable_roles)],
            widget=Select2ManyWidget(),
            validators=[DataRequired(message="Chọn ít nhất một vai trò.")],
        )

    def __init__(self, **kwargs: Any) -> None:
        self.add_form_extra_fields = {
            "roles": self._role_field(),
            "password": PasswordField("Mật khẩu ban đầu", widget=BS3PasswordFieldWidget(),
                                      description="Cán bộ phải đổi mật khẩu này ở lần đăng nhập đầu tiên.",
                                      validators=[DataRequired(message="Trường này là bắt buộc."),
                                                  Length(min=8, message="Mật khẩu quá ngắn.")]),
        }
        self.edit_form_extra_fields = {
            "roles": self._role_field(),
            # FAB would make a non-null boolean "required", which makes unticking (= revoking) impossible.
            "active": BooleanField("Đang hoạt động", description="Bỏ chọn để thu hồi tài khoản: đăng nhập dừng ngay, "
                                   "lịch sử xử lý được giữ nguyên, công việc đang mở được đánh dấu để giao lại."),
            "signing_method": SelectField("Cách ký số cá nhân", choices=list(SIGNING_METHODS.items()),
                                          default="pkcs12", description="Mã PIN do chính cán bộ nhập mỗi lần ký; "
                                          "hệ thống không lưu mã PIN."),
            "remote_credential_id": StringField("Mã chứng thư trên dịch vụ ký số từ xa", validators=[Optional()],
                                                description="Để trống: dùng chứng thư đầu tiên của tài khoản "
                                                "(thư điện tử công vụ) trên dịch vụ ký số từ xa."),
        }
        super().__init__(**kwargs)

    def _revoke_scope(self) -> int | None:
        """The agency whose officials this view may sign out (None: every agency, SoICT's view)."""
        return current_agency_id()

    @action("revoke_sessions", "Đăng xuất mọi phiên", "Đăng xuất các cán bộ đã chọn khỏi mọi trình duyệt?",
            "fa-sign-out", multiple=True, single=False)
    def revoke_sessions(self, items: Any) -> Any:
        if request.method != "POST":  # a state change never rides on a link
            return redirect(url_for(f"{self.endpoint}.list"))
        rows = items if isinstance(items, list) else [items]
        scope = self._revoke_scope()
        try:
            ended = sum(accounts.revoke_sessions(int(r.id), agency_id=scope) for r in rows if r is not None)
        except DomainError:
            db.session.rollback()
            raise
        db.session.commit()
        log.info("sessions of %d official(s) revoked by %s (%d ended)", len(rows), g.user.username, ended)
        flash(f"Đã đăng xuất {len(rows)} cán bộ khỏi mọi phiên ({ended} phiên).", "success")
        return redirect(url_for(f"{self.endpoint}.list"))

    def prefill_form(self, form: Any, pk: Any) -> None:
        staff = db.session.get(Staff, pk)
        if staff is not None and staff.user is not None:
            form.roles.data = [r.name for r in staff.user.roles if r.name in self.grantable_roles]
        if staff is not None and hasattr(form, "signing_method"):
            form.signing_method.data = staff.signing_method or "pkcs12"

    def process_form(self, form: Any, is_created: bool) -> None:
        self._form = form

    def _grantable(self) -> frozenset[str]:
        """What the signed-in admin may grant here (the form may offer more; the accounts service decides)."""
        return self.grantable_roles

    @staticmethod
    def _id(value: Any) -> int | None:
        return getattr(value, "id", None)

    def _agency_for_add(self, item: Any) -> int:
        return int(item.agency_id)

    def _create_account(self, item: Any, form: Any) -> None:
        """The form filled ``item``; the accounts service validates (password policy, grants) and creates both
        the login and the Staff profile, into ``item`` so FAB's own add just commits it."""
        try:
            accounts.create_account(
                agency_id=self._agency_for_add(item), full_name=form.full_name.data or "",
                email=form.email.data or "", roles=list(form.roles.data or []), password=form.password.data or "",
                grantable=self._grantable(), policy=password_policy(),
                department_id=self._id(getattr(item, "department", None)),
                position_id=self._id(getattr(item, "position", None)),
                phone=form.phone.data or None, into=item, acting_user_id=g.user.id)
        except DomainError:
            db.session.rollback()
            raise
        log.info("account %s created for agency %s by %s", item.email, item.agency_id, g.user.username)

    def _sync_account(self, item: Any, form: Any, *, agency_id: int | None = None) -> None:
        """Apply an edit through the accounts service: moves re-derive roles, unticking "active" revokes."""
        wanted_active = bool(form.active.data) if hasattr(form, "active") else True
        values = {
            "full_name": form.full_name.data, "email": form.email.data, "phone": form.phone.data or "",
            "department_id": self._id(getattr(item, "department", None)) if hasattr(form, "department") else None,
            "position_id": self._id(getattr(item, "position", None)) if hasattr(form, "position") else None,
            "roles": list(form.roles.data or []),
        }
        staff_id = item.id
        # Forget what the form wrote into the row: the service applies the change and compares with the
        # stored state (moves flag open tasks, roles follow the position).
        db.session.expire(item)
        try:
            staff = db.session.get(Staff, staff_id)
            if staff.active and not wanted_active:
                accounts.revoke_account(staff_id, reason=f"Thu hồi bởi {g.user.username}")
            elif not staff.active and wanted_active:
                accounts.reinstate_account(staff_id)
            accounts.change_account(staff_id, grantable=self._grantable(), agency_id=agency_id,
                                    acting_user_id=g.user.id, **values)
            if hasattr(form, "signing_method"):
                set_signing_method(staff_id, agency_id=agency_id, method=form.signing_method.data,
                                   remote_credential_id=form.remote_credential_id.data)
        except DomainError:
            db.session.rollback()
            raise
        log.info("account %s changed by %s (roles=%s active=%s)",
                 values["email"], g.user.username, values["roles"], wanted_active)


class StaffAdminView(AgencyScopedMixin, _StaffAccountBase):
    route_base = "/staffadminview"
    list_title = "Cán bộ và tài khoản"
    add_title = "Thêm cán bộ"
    edit_title = "Sửa thông tin cán bộ"
    show_title = "Thông tin cán bộ"
    add_form_query_rel_fields = edit_form_query_rel_fields = {
        "department": [["agency_id", FilterEqualFunction, current_agency_id]],
        "position": [["agency_id", FilterEqualFunction, current_agency_id]],
    }

    def _grantable(self) -> frozenset[str]:
        # An agency admin grants "leader" (which opens every document) only if they are a leader themselves.
        return R.agency_admin_grantable({r.name for r in g.user.roles})

    def pre_add(self, item: Any) -> None:
        super().pre_add(item)
        self._create_account(item, self._form)

    def pre_update(self, item: Any) -> None:
        super().pre_update(item)
        self._sync_account(item, self._form)

    def pre_delete(self, item: Any) -> None:
        super().pre_delete(item)
        _refuse("Không xóa tài khoản cán bộ để giữ lịch sử xử lý văn bản; hãy bỏ chọn “Đang hoạt động” để thu hồi.")


class AgencyAdminView(VietnameseValues, ModelView):
    """SoICT (central domain): the agencies using QLVB."""

    datamodel = SQLAInterface(Agency)
    route_base = "/agencyadminview"
    list_title = "Cơ quan sử dụng phần mềm"
    show_title = "Thông tin cơ quan"
    add_title = "Thêm cơ quan"
    edit_title = "Sửa thông tin cơ quan"
    list_columns = ["name", "domain", "abbreviation", "kind", "active"]
    add_columns = edit_columns = ["code", "name", "short_name", "abbreviation", "governing_body", "domain",
                                  "org_identifier", "kind", "place", "numbering_policy", "issues_on_paper", "active"]
    show_columns = [*add_columns, "created_at"]
    search_columns = ["name", "domain", "code"]
    order_columns = ["name", "domain"]
    label_columns = {"code": "Mã", "name": "Tên cơ quan", "short_name": "Tên viết gọn", "abbreviation": "Viết tắt",
                     "governing_body": "Cơ quan chủ quản", "domain": "Tên miền", "org_identifier": "Mã định danh",
                     "kind": "Loại", "place": "Địa danh", "numbering_policy": "Cách đánh số",
                     "issues_on_paper": "Ban hành văn bản giấy", "active": "Đang hoạt động", "created_at": "Tạo lúc"}
    formatters_columns = {"issues_on_paper": lambda v: "Có" if v else "Không",
                          "active": lambda v: "Có" if v else "Không",
                          "kind": lambda v: AGENCY_KINDS.get(v, v),
                          "numbering_policy": lambda v: NUMBERING_POLICIES.get(v, v)}
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": SelectField("Loại", choices=list(AGENCY_KINDS.items()), default="so"),
        "numbering_policy": SelectField("Cách đánh số", choices=list(NUMBERING_POLICIES.items()), default="single"),
        "active": _active_field("Bỏ chọn khi cơ quan ngừng sử dụng phần mềm: không còn trong thống kê và "
                                "danh sách nơi nhận; dữ liệu được giữ nguyên."),
        "issues_on_paper": BooleanField(
            "Ban hành văn bản giấy", default=False,
            description="Chọn khi cơ quan chưa ký số văn bản đi: lãnh đạo chỉ phê duyệt, văn thư cấp số khi phát "
                        "hành và đính kèm bản quét văn bản đã ký, đóng dấu (Điều 15, 16 Nghị định 30/2020/NĐ-CP)."),
    }

    def _central_only(self) -> None:
        agency = getattr(g, "agency", None)
        if agency is None or not agency.is_central:
            _refuse("Chức năng này chỉ dùng trên trang quản trị chung của Sở TTTT.")

    def pre_add(self, item: Any) -> None:
        self._central_only()

    def pre_update(self, item: Any) -> None:
        self._central_only()


class AgencyAccountView(_StaffAccountBase):
    """SoICT (central domain): every agency's admin accounts."""

    route_base = "/agencyaccountview"
    list_title = "Tài khoản quản trị các cơ quan"
    add_title = "Thêm quản trị cơ quan"
    edit_title = "Sửa quản trị cơ quan"
    show_title = "Quản trị cơ quan"
    grantable_roles = R.AGENCY_GRANTABLE | {R.AGENCY_ADMIN}
    list_columns = ["full_name", "email", "agency", "active"]
    add_columns = ["agency", "full_name", "email", "phone", "roles", "password"]
    edit_columns = ["agency", "full_name", "email", "phone", "roles", "active"]
    show_columns = ["agency", *_StaffAccountBase.show_columns]
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]

    def _revoke_scope(self) -> int | None:
        if not getattr(g, "agency", None) or not g.agency.is_central:
            _refuse("Chức năng này chỉ dùng trên trang quản trị chung của Sở TTTT.")
        return None

    def _agency_for_add(self, item: Any) -> int:
        agency = getattr(item, "agency", None)
        if agency is None:
            raise ValidationError("Chọn cơ quan của tài khoản.", field_errors={"agency": ["Trường này là bắt buộc."]})
        return int(agency.id)

    def pre_add(self, item: Any) -> None:
        if not getattr(g, "agency", None) or not g.agency.is_central:
            _refuse("Chức năng này chỉ dùng trên trang quản trị chung của Sở TTTT.")
        self._create_account(item, self._form)

    def pre_update(self, item: Any) -> None:
        if not getattr(g, "agency", None) or not g.agency.is_central:
            _refuse("Chức năng này chỉ dùng trên trang quản trị chung của Sở TTTT.")
        agency = getattr(item, "agency", None)
        self._sync_account(item, self._form, agency_id=agency.id if agency is not None else None)


def register_views(ab: Any) -> None:
    ab.add_view(DepartmentAdminView, "Phòng ban", category=ORG_MENU, icon="fa-sitemap", category_icon="fa-building")
    ab.add_view(PositionAdminView, "Chức vụ", category=ORG_MENU, icon="fa-id-badge")
    ab.add_view(StaffAdminView, "Cán bộ, tài khoản", category=ORG_MENU, icon="fa-users")
    ab.add_view(AgencyAdminView, "Cơ quan", category=SOICT_MENU, icon="fa-university", category_icon="fa-cogs")
    ab.add_view(AgencyAccountView, "Quản trị cơ quan", category=SOICT_MENU, icon="fa-user-secret")
