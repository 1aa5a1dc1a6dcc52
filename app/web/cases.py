"""Staff pages of processes the agency created without code: start one, follow its case."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from markupsafe import Markup
from werkzeug.datastructures import CombinedMultiDict

from app.admin.permissions import register_common_grants
from app.cases import queries as q
from app.cases import services
from app.core.errors import DomainError, NotFoundError, ValidationError
from app.designer.definitions import SUBJECT_TYPE, definition, definitions_for
from app.designer.forms import effective_form
from app.extensions import db
from app.forms import build_form, render_form, render_readonly, uploaded_files, validate_submission
from app.web.form_errors import attach_field_errors
from app.workflow import queries as wfq
from app.workflow import services as wf

from . import subjects
from .auth import current_actor
from .choices import AgencyChoices
from .inbox import timeline_context
from .uploads import as_uploads, posted_files, send_stored

log = logging.getLogger("qlvb.cases")


def _forms_dir() -> Path:
    return Path(current_app.config["QLVB_FORMS_DIR"])


def _startable(agency_id: int) -> list[Any]:
    """The defined processes this agency can start: active, with a published diagram it may run."""
    out = []
    for d in definitions_for(agency_id):
        try:
            wf.current_version(agency_id, d.key)
        except NotFoundError:
            continue
        out.append(d)
    return out


def _describe(agency_id: int, ids: list[int]) -> dict[int, subjects.SubjectInfo]:
    names = {d.key: d.name for d in definitions_for(agency_id, active_only=False)}
    return {c.id: subjects.SubjectInfo(title=c.title, link=url_for("CaseView.show", case_id=c.id),
                                       kind_label=names.get(c.process_key))
            for c in q.cases_by_ids(agency_id, ids)}


class CaseView(BaseView):
    route_base = "/cases"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        actor = current_actor()
        processes = _startable(actor.agency_id)
        names = {d.key: d.name for d in definitions_for(actor.agency_id, active_only=False)}
        return self.render_template("cases/index.html", processes=processes, cases=q.list_cases(actor), names=names)

    @expose("/new/<key>", methods=["GET", "POST"])
    @has_access
    def new(self, key: str) -> Any:
        actor = current_actor()
        found = next((d for d in _startable(actor.agency_id) if d.key == key), None)
        if found is None:
            abort(404)
        defn = effective_form(actor.agency_id, found.start_form_key, _forms_dir()) if found.start_form_key else None
        choices = AgencyChoices(actor.agency_id)
        formdata = CombinedMultiDict((request.files, request.form)) if request.method == "POST" else None
        form = build_form(defn, choices=choices, formdata=formdata) if defn is not None else None
        title = request.form.get("title", "")
        title_error = None
        if request.method == "POST":
            try:
                data = validate_submission(defn, form) if defn is not None and form is not None else {}
                files = posted_files("case_files")
                if defn is not None and form is not None:
                    files += [u for items in uploaded_files(defn, form).values() for u in as_uploads(items)]
                case = services.start_case(actor, key, title=title, data=data, files=files)
                db.session.commit()
            except ValidationError as exc:
                db.session.rollback()
                title_error = " ".join(exc.field_errors.get("title", [])) or None
                elsewhere = attach_field_errors(form, exc.field_errors, beside=("title",))
                flash(" ".join([exc.message, *elsewhere]), "danger")
            except DomainError as exc:
                db.session.rollback()
                log.warning("case of %s refused for user %s: %s", key, actor.user_id, exc.log)
                flash(exc.message, "danger")
            else:
                flash(f"Đã bắt đầu: {found.name} — {case.title}.", "success")
                return redirect(url_for("CaseView.show", case_id=case.id))
        lead = render_template("cases/_start_lead.html", title=title, title_error=title_error)
        form_html = (render_form(defn, form, action=request.path, submit_label="Bắt đầu", form_id="qlvb-case-form",
                                 lead=Markup(lead), multipart=True)  # noqa: S704  an autoescaped template's output
                     if defn is not None and form is not None else None)
        return self.render_template("cases/new.html", process=found, lead=Markup(lead),  # noqa: S704
                                    form_html=form_html)

    @expose("/<int:case_id>")
    @has_access
    def show(self, case_id: int) -> Any:
        actor = current_actor()
        try:
            case = q.get_case(actor, case_id)
        except NotFoundError:
            abort(404)
        found = definition(case.process_key)
        defn = (effective_form(actor.agency_id, found.start_form_key, _forms_dir())
                if found is not None and found.start_form_key else None)
        data_html = (render_readonly(defn, case.data, choices=AgencyChoices(actor.agency_id), context=case.data)
                     if defn is not None else None)
        my_tasks = [t for t in wfq.open_tasks(case.instance_id) if wf.can_act(t, actor)] if case.instance_id else []
        tl = timeline_context(case.instance_id, actor.agency_id) if case.instance_id else {"timeline": [],
                                                                                             "done_forms": []}
        return self.render_template("cases/show.html", case=case, process=found, data_html=data_html,
                                    files=services.case_files(case.id), my_tasks=my_tasks, **tl)

    @expose("/<int:case_id>/files/<int:file_id>")
    @has_access
    def file(self, case_id: int, file_id: int) -> Any:
        actor = current_actor()
        try:
            q.get_case(actor, case_id)
        except NotFoundError:
            abort(404)
        return send_stored(next((f for f in services.case_files(case_id) if f.id == file_id), None))


def register(appbuilder: Any) -> None:
    subjects.DESCRIBERS[SUBJECT_TYPE] = _describe
    appbuilder.add_view(CaseView, "Quy trình khác", href="/cases/", category="Điều hành", icon="fa-random")


register_common_grants("CaseView", ("can_index", "can_new", "can_show", "can_file"))
register_common_grants("Quy trình khác", ("menu_access",))
