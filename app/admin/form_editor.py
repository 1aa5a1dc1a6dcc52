"""Form editor: admins edit form definitions (YAML, comments kept) with a live server-rendered preview."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from app.admin.designer import DESIGN_MENU, actor_id, owner_id
from app.admin.permissions import register_grants
from app.core.errors import DomainError, NotFoundError
from app.designer import forms as store
from app.extensions import db
from app.forms import FormDefinitionError
from app.forms.definitions import FORM_KEY_RE
from app.tenancy import roles as R

SOURCE_LABELS = {"file": "Tệp gốc trong forms/", "shipped": "Phiên bản chung của Sở TTTT",
                 "agency": "Phiên bản của cơ quan"}
NEW_FORM = """# Biểu mẫu mới: mỗi trường có name (không dấu), label (tiếng Việt) và type.
title: Tên biểu mẫu
fields:
  - name: ghi_chu
    label: Ghi chú
    type: textarea
"""


def _title(text: str) -> str:
    """The form's own title (what the steps show), read from its YAML; keys are for files, not for people."""
    match = re.search(r"^title:\s*(.+?)\s*$", text, flags=re.MULTILINE)
    return match.group(1).strip("'\"") if match else "Biểu mẫu mới"


def _forms_dir() -> str:
    return str(current_app.config["QLVB_FORMS_DIR"])


class FormEditorView(BaseView):
    route_base = "/form-editor"
    default_view = "index"
    class_permission_name = "FormEditor"
    method_permission_name = {"index": "read", "edit": "read", "preview": "read", "publish": "write"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        return self.render_template("admin/form_list.html", forms=store.catalog(owner_id(), _forms_dir()),
                                    labels=SOURCE_LABELS, is_templates=owner_id() is None)

    @expose("/form/<key>/")
    @has_access
    def edit(self, key: str) -> Any:
        if not FORM_KEY_RE.match(key):
            abort(404)
        try:
            source = store.effective_source(owner_id(), key, _forms_dir())
            text, label = source.yaml_text, SOURCE_LABELS[source.source]
        except NotFoundError:
            if request.args.get("new") != "1":
                raise
            source, text, label = None, NEW_FORM, "Biểu mẫu mới"
        return self.render_template("admin/form_editor.html", key=key, text=text, source=source, source_label=label,
                                    title=_title(text), versions=store.form_versions(owner_id(), key), problems=None,
                                    note="")

    @expose("/form/<key>/preview", methods=["POST"])
    @has_access
    def preview(self, key: str) -> Any:
        if not FORM_KEY_RE.match(key):
            abort(404)
        payload = request.get_json(silent=True) or {}
        try:
            html = store.preview(str(payload.get("yaml", "")), key)
        except FormDefinitionError as exc:
            return jsonify(ok=False, message=exc.message, problems=exc.problems)
        return jsonify(ok=True, html=str(html))

    @expose("/form/<key>/publish", methods=["POST"])
    @has_access
    def publish(self, key: str) -> Any:
        text, note = request.form.get("yaml", ""), request.form.get("note", "")
        try:
            version = store.publish_form(owner_id(), key, text, note, by_user_id=actor_id(), forms_dir=_forms_dir())
        except DomainError as exc:
            db.session.rollback()
            problems = getattr(exc, "problems", None) or exc.details or []
            return self.render_template(
                "admin/form_editor.html", key=key, text=text, source=None, source_label="Bản đang sửa (chưa lưu)",
                title=_title(text),
                versions=store.form_versions(owner_id(), key), problems=[exc.message, *problems], note=note,
            ), 422
        db.session.commit()
        flash(f"Đã ban hành biểu mẫu «{_title(text)}» phiên bản số {version.number}; các bước xử lý mới dùng ngay "
              "bản này.", "success")
        return redirect(url_for(".edit", key=key))


def register(appbuilder: Any) -> None:
    appbuilder.add_view(FormEditorView, "Biểu mẫu", category=DESIGN_MENU, icon="fa-wpforms")


for _perm in (("FormEditor", ("can_read", "can_write")), ("Biểu mẫu", ("menu_access",))):
    register_grants(R.AGENCY_ADMIN, *_perm)
