"""Routing designer pages (Art 11.5): agency admins edit their diagrams, SoICT (central domain) its templates."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from app.admin.permissions import register_grants
from app.core.errors import DomainError, ValidationError
from app.designer import definitions, diagrams
from app.designer.audit import AREA_LABELS, list_changes
from app.designer.forms import catalog
from app.extensions import db
from app.tenancy import roles as R
from app.tenancy.queries import staff_for_user
from app.tenancy.roles import ROLE_LABELS, WORKFLOW_ROLES
from app.web.auth import current_agency
from app.workflow.errors import DiagramInvalidError
from app.workflow.steps import GENERIC_KINDS, process_kind

DESIGN_MENU = "Thiết kế quy trình"
READ_WRITE = {"index": "read", "modeler": "read", "xml": "read", "versions": "read", "diff": "read",
              "check": "read", "save": "write", "publish": "write", "rollback": "write", "adopt": "write",
              "import_form": "read", "import_upload": "write", "mapping": "write", "new_process": "write"}


def owner_id() -> int | None:
    """The diagrams this host edits: the agency's own, or SoICT's templates on the central domain."""
    agency = current_agency()
    return None if agency.is_central else int(agency.id)


def actor_id() -> int | None:
    user = getattr(g, "user", None)
    return int(user.id) if user is not None and user.is_authenticated else None


def validation_context() -> diagrams.ValidationContextInfo:
    cfg = current_app.config
    return diagrams.validation_context(owner_id(), forms_dir=cfg["QLVB_FORMS_DIR"],
                                       processes_dir=cfg["QLVB_PROCESSES_DIR"])


def _key(key: str) -> str:
    if key not in diagrams.process_keys(owner_id()):
        abort(404)
    return key


def _problems_json(problems: Any) -> list[dict[str, Any]]:
    return [{"element_id": p.element_id, "message": p.message_vi} for p in problems]


class RoutingDesignerView(BaseView):
    route_base = "/designer"
    default_view = "index"
    class_permission_name = "RoutingDesigner"
    method_permission_name = READ_WRITE

    @expose("/")
    @has_access
    def index(self) -> Any:
        owner = owner_id()
        return self.render_template("admin/designer_list.html", processes=diagrams.overview(owner),
                                    is_templates=owner is None)

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new_process(self) -> Any:
        """A process the agency needs that the product does not ship (issue #12.4): name, start form, first role."""
        owner = owner_id()
        forms = {f.key: f.title for f in catalog(owner, current_app.config["QLVB_FORMS_DIR"])}
        roles = {code: R.role_label(code) for code in sorted(R.WORKFLOW_ROLES)}
        values = {k: request.form.get(k, "") for k in ("name", "description", "start_form_key", "role")}
        errors: dict[str, list[str]] = {}
        if request.method == "POST":
            try:
                made = definitions.define_process(owner, name=values["name"], description=values["description"],
                                                  start_form_key=values["start_form_key"] or None,
                                                  role=values["role"], known_forms=forms, by_user_id=actor_id())
                db.session.commit()
            except ValidationError as exc:
                db.session.rollback()
                errors = exc.field_errors
                flash(exc.message, "danger")
            else:
                flash(f"Đã tạo quy trình «{made.name}». Hãy thêm các bước, lưu và ban hành để cán bộ bắt đầu dùng.",
                      "success")
                return redirect(url_for("RoutingDesignerView.modeler", key=made.key))
        return self.render_template("admin/designer_new.html", forms=forms, roles=roles, values=values,
                                    errors=errors, is_templates=owner is None)

    @expose("/process/<key>/")
    @has_access
    def modeler(self, key: str) -> Any:
        key = _key(key)
        owner = owner_id()
        _, version = diagrams.editable_xml(owner, key)
        sources = catalog(owner, current_app.config["QLVB_FORMS_DIR"])
        forms = {f.key: f.title for f in sources}
        roles = {code: R.role_label(code) for code in sorted(R.WORKFLOW_ROLES)}
        kind = process_kind(key)
        kinds = {k.code: k.label for k in (kind.all_kinds if kind is not None else GENERIC_KINDS)}
        fields: dict[str, str] = {}
        for form_key, form_fields in validation_context().form_fields.items():
            for name, label in form_fields.items():
                fields.setdefault(name, f"{label} (biểu mẫu «{forms.get(form_key, form_key)}»)")
        return self.render_template(
            "admin/designer_modeler.html", key=key, name=diagrams.process_name(key), version=version,
            is_templates=owner is None, roles_json=json.dumps(roles, ensure_ascii=False),
            forms_json=json.dumps(forms, ensure_ascii=False), kinds_json=json.dumps(kinds, ensure_ascii=False),
            fields_json=json.dumps(dict(sorted(fields.items(), key=lambda kv: kv[1])), ensure_ascii=False),
        )

    @expose("/process/<key>/xml")
    @has_access
    def xml(self, key: str) -> Any:
        key = _key(key)
        version_id = request.args.get("version", type=int)
        if version_id:
            row = diagrams.version_row(owner_id(), version_id)
            text = row.bpmn_xml
        else:
            text, _ = diagrams.editable_xml(owner_id(), key)
        return Response(text, mimetype="application/xml", headers={"Cache-Control": "no-store"})

    @expose("/process/<key>/save", methods=["POST"])
    @has_access
    def save(self, key: str) -> Any:
        key = _key(key)
        payload = request.get_json(silent=True) or {}
        try:
            result = diagrams.save(owner_id(), key, payload.get("xml", ""), by_user_id=actor_id(),
                                   ctx=validation_context())
        except DiagramInvalidError as exc:
            db.session.rollback()
            return jsonify(error=exc.message, problems=_problems_json(exc.problems)), 422
        db.session.commit()
        return jsonify(version={"id": result.version.id, "number": result.version.number,
                                "status": result.version.status},
                       problems=_problems_json(result.problems))

    @expose("/process/<key>/check", methods=["POST"])
    @has_access
    def check(self, key: str) -> Any:
        payload = request.get_json(silent=True) or {}
        try:
            return jsonify(ok=True, message=diagrams.check_condition(str(payload.get("expression", ""))))
        except DomainError as exc:
            return jsonify(ok=False, message=exc.message)

    @expose("/process/<key>/publish", methods=["POST"])
    @has_access
    def publish(self, key: str) -> Any:
        key = _key(key)
        try:
            version = diagrams.publish(owner_id(), key, request.form.get("note", ""), by_user_id=actor_id(),
                                       ctx=validation_context())
        except DiagramInvalidError as exc:
            db.session.rollback()
            flash(f"{exc.message}: " + "; ".join(p.message_vi for p in exc.problems), "danger")
            return redirect(url_for(".modeler", key=key))
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "warning")
            return redirect(url_for(".modeler", key=key))
        db.session.commit()
        flash(f"Đã ban hành phiên bản số {version.number}. Hồ sơ đang xử lý giữ nguyên phiên bản cũ; "
              "hồ sơ mới dùng phiên bản này.", "success")
        return redirect(url_for(".versions", key=key))

    @expose("/process/<key>/versions")
    @has_access
    def versions(self, key: str) -> Any:
        key = _key(key)
        owner = owner_id()
        rows = diagrams.versions(owner, key)
        overview = next((p for p in diagrams.overview(owner) if p.key == key), None)
        return self.render_template("admin/designer_versions.html", key=key, name=diagrams.process_name(key),
                                    rows=rows, overview=overview, is_templates=owner is None)

    @expose("/process/<key>/diff")
    @has_access
    def diff(self, key: str) -> Any:
        key = _key(key)
        a_id, b_id = request.args.get("a", type=int), request.args.get("b", type=int)
        if not a_id or not b_id:
            abort(404)
        a, b, result = diagrams.diff(owner_id(), a_id, b_id)
        return self.render_template(
            "admin/designer_diff.html", key=key, name=diagrams.process_name(key), a=a, b=b, result=result,
            added_ids=json.dumps([s.bpmn_id for s in result.added]),
            removed_ids=json.dumps([s.bpmn_id for s in result.removed]),
            changed_ids=json.dumps([c.step.bpmn_id for c in result.changed]),
        )

    @expose("/process/<key>/rollback/<int:version_id>", methods=["POST"])
    @has_access
    def rollback(self, key: str, version_id: int) -> Any:
        key = _key(key)
        version = diagrams.rollback(owner_id(), key, version_id, request.form.get("note", ""), by_user_id=actor_id(),
                                    ctx=validation_context())
        db.session.commit()
        flash(f"Đã khôi phục: phiên bản số {version.number} mang nội dung của phiên bản cũ và đang được dùng.",
              "success")
        return redirect(url_for(".versions", key=key))

    @expose("/process/<key>/adopt", methods=["POST"])
    @has_access
    def adopt(self, key: str) -> Any:
        key = _key(key)
        owner = owner_id()
        if owner is None:
            abort(404)
        version = diagrams.adopt_template(owner, key, request.form.get("note", ""), by_user_id=actor_id(),
                                          ctx=validation_context())
        db.session.commit()
        flash(f"Đã áp dụng quy trình mẫu mới nhất của Sở TTTT (phiên bản số {version.number} của cơ quan).", "success")
        return redirect(url_for(".versions", key=key))

    @expose("/process/<key>/import", methods=["GET"])
    @has_access
    def import_form(self, key: str) -> Any:
        key = _key(key)
        return self.render_template("admin/designer_import.html", key=key, name=diagrams.process_name(key),
                                    problems=None, filename=None)

    @expose("/process/<key>/import", methods=["POST"])
    @has_access
    def import_upload(self, key: str) -> Any:
        key = _key(key)
        upload = request.files.get("file")
        filename = (upload.filename or "so_do.bpmn") if upload else ""
        try:
            if upload is None or not filename:
                raise DiagramInvalidError([], message="Hãy chọn tệp sơ đồ .bpmn để nhập")
            result = diagrams.import_diagram(owner_id(), key, upload.read(), filename, by_user_id=actor_id(),
                                             ctx=validation_context())
        except DiagramInvalidError as exc:
            db.session.rollback()
            return self.render_template("admin/designer_import.html", key=key,
                                        name=diagrams.process_name(key), problems=exc.problems,
                                        message=exc.message, filename=filename), 422
        db.session.commit()
        notes = "".join(f" {note}." for note in result.notes)
        if result.problems:
            flash(f"Đã nhập “{filename}” thành bản nháp số {result.version.number}; còn {len(result.problems)} điểm "
                  "cần ánh xạ sang cách QLVB chạy." + notes, "warning")
            return redirect(url_for(".mapping", key=key))
        flash(f"Đã nhập “{filename}” thành bản nháp số {result.version.number}. Kiểm tra trên sơ đồ rồi ban hành."
              + notes, "success")
        return redirect(url_for(".modeler", key=key))

    @expose("/process/<key>/mapping", methods=["GET", "POST"])
    @has_access
    def mapping(self, key: str) -> Any:
        """Map an imported diagram: lanes to roles, steps to kinds and forms, branches to conditions."""
        key = _key(key)
        ctx = validation_context()
        field_errors: dict[str, list[str]] = {}
        if request.method == "POST":
            form = request.form
            lanes = {k[5:]: v for k, v in form.items() if k.startswith("lane-")}
            steps = {k[5:]: (v, form.get(f"form-{k[5:]}", "")) for k, v in form.items() if k.startswith("kind-")}
            conditions = {k[5:]: v for k, v in form.items() if k.startswith("cond-")}
            defaults = {k[8:]: v for k, v in form.items() if k.startswith("default-")}
            try:
                result = diagrams.apply_import_mapping(owner_id(), key, lanes=lanes, steps=steps,
                                                       conditions=conditions, defaults=defaults,
                                                       by_user_id=actor_id(), ctx=ctx)
            except ValidationError as exc:
                db.session.rollback()
                field_errors = dict(exc.field_errors)
                flash(exc.message, "danger")
            except DomainError as exc:
                db.session.rollback()
                flash(exc.message, "danger")
            else:
                db.session.commit()
                if not result.problems:
                    flash("Đã ánh xạ xong: sơ đồ chạy được. Kiểm tra trên sơ đồ rồi ban hành.", "success")
                    return redirect(url_for(".modeler", key=key))
                flash(f"Đã lưu ánh xạ; còn {len(result.problems)} điểm cần sửa.", "warning")
        try:
            version, info, proposed = diagrams.import_mapping(owner_id(), key)
        except DomainError as exc:
            flash(exc.message, "warning")
            return redirect(url_for(".index"))
        problems = diagrams.problems_of(diagrams.editable_xml(owner_id(), key)[0], ctx, key)
        kind_info = process_kind(key)
        kinds = [(k.code, k.label) for k in (kind_info.all_kinds if kind_info else ()) if not k.automatic]
        forms = [(f.key, f.title) for f in catalog(owner_id(), current_app.config["QLVB_FORMS_DIR"])]
        return self.render_template("admin/designer_mapping.html", key=key, version=version, info=info,
                                    proposed=proposed, problems=problems, kinds=kinds, forms=forms,
                                    roles=[(r, ROLE_LABELS[r]) for r in sorted(WORKFLOW_ROLES)],
                                    errors=field_errors, name=diagrams.process_name(key))


class DesignAuditView(BaseView):
    route_base = "/design-audit"
    default_view = "index"
    class_permission_name = "DesignAudit"
    method_permission_name = {"index": "read"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        area = request.args.get("area") or None
        if area not in (None, *AREA_LABELS):
            area = None
        page = max(request.args.get("page", 1, type=int), 1)
        rows, total = list_changes(owner_id(), area=area, page=page)
        names = {}
        for user_id in {r.actor_id for r in rows if r.actor_id}:
            staff = staff_for_user(user_id)
            names[user_id] = staff.full_name if staff else f"#{user_id}"
        # Processes and forms by their names: their keys name files, people read titles.
        from app.designer import forms as form_store

        subjects = {("diagram", k): v for k, v in diagrams.PROCESS_NAMES.items()}
        if any(r.area == "form" for r in rows):
            subjects.update({("form", f.key): f.title for f in form_store.catalog(
                owner_id(), str(current_app.config["QLVB_FORMS_DIR"]))})
        return self.render_template("admin/design_audit.html", rows=rows, total=total, page=page, area=area,
                                    areas=AREA_LABELS, names=names, per_page=50, subjects=subjects)


def register(appbuilder: Any) -> None:
    appbuilder.add_view(RoutingDesignerView, "Quy trình xử lý", category=DESIGN_MENU, icon="fa-project-diagram",
                        category_icon="fa-sitemap")
    appbuilder.add_view(DesignAuditView, "Nhật ký thay đổi", category=DESIGN_MENU, icon="fa-history")


for _perm in (("RoutingDesigner", ("can_read", "can_write")), ("DesignAudit", ("can_read",)),
              (DESIGN_MENU, ("menu_access",)), ("Quy trình xử lý", ("menu_access",)),
              ("Nhật ký thay đổi", ("menu_access",))):
    register_grants(R.AGENCY_ADMIN, *_perm)
