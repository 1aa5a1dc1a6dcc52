"""Staff inbox: to do, in progress, overdue, done; a task page that renders its form and completes it."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from markupsafe import Markup
from werkzeug.datastructures import CombinedMultiDict

from app.admin.permissions import register_common_grants
from app.core import revisions
from app.core.errors import ConflictError, DomainError, NotFoundError, ValidationError
from app.designer.forms import effective_form
from app.documents import queries as dq
from app.documents.errors import DuplicateDocumentError
from app.documents.services import needs_signature_reason
from app.extensions import db
from app.forms import build_form, render_form, render_readonly, uploaded_files, validate_submission
from app.tenancy.queries import staff_names
from app.web.form_errors import attach_field_errors
from app.workflow import progress
from app.workflow import queries as wfq
from app.workflow import services as wf
from app.workflow.errors import StepTakenError
from app.workflow.steps import kind_info

from . import subjects
from .auth import current_actor
from .choices import AgencyChoices
from .labels import ATTACHMENT_KIND, CHANNEL, URGENCY
from .listing import read_listing
from .tasks import EXTRA_INPUTS, complete, prefill
from .uploads import as_uploads

log = logging.getLogger("qlvb.inbox")

TABS = [("todo", "Cần xử lý"), ("in_progress", "Đang xử lý"), ("overdue", "Quá hạn"), ("done", "Đã xử lý")]
EVENT_LABELS = {
    "started": "Khởi tạo quy trình",
    "opened": "Chuyển đến bước",
    "completed": "Hoàn thành bước",
    "claimed": "Nhận xử lý",
    "returned": "Trả lại",
    "resubmitted": "Trình lại sau khi sửa",
    "finished": "Kết thúc quy trình",
    "incident": "Sự cố",
    "operation": "Hệ thống thực hiện",
    "cancelled": "Hủy quy trình",
    "timer": "Đến hạn",
}


def _forms_dir() -> Path:
    return Path(current_app.config["QLVB_FORMS_DIR"])


# agency -> {user id: full name} of its staff; valid while the "org" revision stands
_NAMES = revisions.DefinitionCache("org", maxsize=128)


def _people(ids: set[int], agency_id: int) -> dict[int, str]:
    """Names of the people on a timeline: the agency's staff from the cache, anyone else in one query."""
    names = _NAMES.get(agency_id, lambda: staff_names(agency_id))
    out = {uid: names[uid] for uid in ids if uid in names}
    missing = ids - out.keys()
    if missing:
        out.update(staff_names(None, user_ids=missing))
    return out


def timeline_context(instance_id: int, agency_id: int) -> dict[str, Any]:
    """Timeline rows with actor names and read-only renderings of the submitted forms (and every step, as
    ``steps``, so callers need not read them again)."""
    events = wfq.instance_timeline(instance_id)
    names = _people({e.actor_id for e in events if e.actor_id}, agency_id)
    rows = []
    for e in events:
        rows.append({"at": e.at, "who": names.get(e.actor_id or 0, "Hệ thống"),
                     "kind": EVENT_LABELS.get(e.kind, e.kind), "task": e.task_name, "comment": e.comment})
    done = []
    choices = AgencyChoices(agency_id)
    steps = progress.tasks_of_instance(instance_id)
    for t in steps:
        if t.state == "done" and t.form_key and t.form_data:
            try:
                defn = effective_form(agency_id, t.form_key, _forms_dir())
                done.append((t, render_readonly(defn, t.form_data, choices=choices)))
            except NotFoundError:
                continue
    return {"timeline": rows, "done_forms": done, "people": names, "steps": steps}


class InboxView(BaseView):
    route_base = "/inbox"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        actor = current_actor()
        listing = read_listing(TABS, arg="tab")
        counts = wfq.count_inbox_buckets(actor, tuple(key for key, _ in TABS))
        tasks = wfq.inbox(actor, listing.tab, limit=listing.size, offset=listing.offset)
        about = subjects.describe(actor.agency_id, [(t.subject_type, t.subject_id) for t in tasks])
        return self.render_template("inbox/index.html", listing=listing, counts=counts, tasks=tasks, about=about,
                                    labels=subjects.PROCESS_LABELS)


class TaskView(BaseView):
    route_base = "/tasks"
    default_view = "show"

    def _load(self, task_id: int) -> Any:
        actor = current_actor()
        try:
            task = wfq.get_task(task_id)
        except NotFoundError:
            abort(404)
        if task.agency_id != actor.agency_id:
            abort(404)
        return actor, task

    @expose("/<int:task_id>", methods=["GET", "POST"])
    @has_access
    def show(self, task_id: int) -> Any:
        actor, task = self._load(task_id)
        may_act = task.state == "open" and wf.can_act(task, actor)
        involved = may_act or task.completed_by_id == actor.user_id or task.claimed_by_id == actor.user_id
        if not involved and task.state != "open" and wf.can_act(replace(task, state="open", claimed_by_id=None), actor):
            # A stale page of a step someone else finished (or the route moved past): say so, lose nothing.
            flash("Công việc này đã được xử lý bởi người khác hoặc không còn hiệu lực; vui lòng tải lại trang.",
                  "warning")
            return redirect(url_for("InboxView.index"))
        if not involved:
            abort(404)
        defn = effective_form(actor.agency_id, task.form_key, _forms_dir()) if task.form_key else None
        choices = AgencyChoices(actor.agency_id)
        context = dict(task.form_data or {})
        form_html = readonly_html = None
        kind = kind_info(task.process_key, task.step_kind)
        duplicate = None
        document = None
        if defn is not None and may_act:
            formdata = CombinedMultiDict((request.files, request.form)) if request.method == "POST" else None
            form = build_form(defn, choices=choices, formdata=formdata, context=self._context(task),
                              data=prefill(task) if formdata is None else None)
            if request.method == "POST":
                try:
                    data = validate_submission(defn, form)
                    files = {name: as_uploads(items) for name, items in uploaded_files(defn, form).items()}
                    complete(task, actor, data, files, request.form.get("comment") or data.get("comment"),
                             extra={k: request.form.get(k) for k in EXTRA_INPUTS if request.form.get(k)})
                    db.session.commit()
                except StepTakenError as exc:
                    db.session.rollback()
                    flash(exc.message, "warning")
                    return redirect(url_for("InboxView.index"))
                except DuplicateDocumentError as exc:
                    db.session.rollback()
                    duplicate = exc.message
                except ValidationError as exc:
                    db.session.rollback()
                    elsewhere = attach_field_errors(form, exc.field_errors)
                    flash(" ".join([exc.message, *elsewhere]), "danger")
                except DomainError as exc:
                    db.session.rollback()
                    log.warning("task %s refused for user %s: %s", task.id, actor.user_id, exc.log)
                    flash(exc.message, "danger")
                else:
                    log.info("task %s (%s) completed by user %s", task.id, task.step_kind, actor.user_id)
                    flash(f"Đã hoàn thành: {task.name}.", "success")
                    return redirect(url_for("InboxView.index"))
            document = self._document(actor, task)
            asks = tuple(a for a in (kind.asks if kind is not None else ())
                         if a.name != "signature_reason"
                         or (document is not None and needs_signature_reason(document.signature_status)))
            extra = render_template("inbox/_step_inputs.html", asks=asks, duplicate=duplicate,
                                    values={a.name: request.form.get(a.name, "") for a in asks
                                            if a.kind != "password"}) if asks or duplicate else None
            form_html = render_form(defn, form, action=url_for("TaskView.show", task_id=task.id),
                                    submit_label="Hoàn thành", form_id="qlvb-task-form",
                                    # an autoescaped template's output, not user text
                                    extra=Markup(extra) if extra else None)  # noqa: S704
        elif defn is not None and task.form_data:
            readonly_html = render_readonly(defn, task.form_data, choices=choices, context=context)
        if document is None:
            document = self._document(actor, task)
        if document is not None:  # what the inbox row says about it, from the document already read
            about = subjects.SubjectInfo(title=document.summary, number=document.number_notation,
                                         urgency=document.urgency,
                                         link=url_for("DocumentView.show", document_id=document.id))
        else:
            about = subjects.describe(actor.agency_id, [(task.subject_type, task.subject_id)])[
                (task.subject_type, task.subject_id)]
        instance = wfq.get_instance(task.instance_id)
        tl = timeline_context(task.instance_id, actor.agency_id)
        tl.pop("steps")
        return self.render_template("inbox/task.html", task=task, form_html=form_html, readonly_html=readonly_html,
                                    kind=kind, document=document, kinds=ATTACHMENT_KIND,
                                    urgency=URGENCY, channel=CHANNEL,
                                    about=about, instance=instance, may_act=may_act,
                                    can_claim=self._can_claim(task, actor), labels=subjects.PROCESS_LABELS, **tl)

    @expose("/<int:task_id>/claim", methods=["POST"])
    @has_access
    def claim(self, task_id: int) -> Any:
        actor, task = self._load(task_id)
        try:
            wf.claim_task(task.id, actor)
            db.session.commit()
            flash(f"Bạn đã nhận xử lý: {task.name}.", "success")
        except ConflictError as exc:
            db.session.rollback()
            flash(exc.message, "warning")
        return redirect(url_for("TaskView.show", task_id=task.id))

    @staticmethod
    def _can_claim(task: Any, actor: Any) -> bool:
        return task.state == "open" and task.claimed_by_id is None and task.candidate_user_id is None and \
            wf.can_act(task, actor)

    @staticmethod
    def _document(actor: Any, task: Any) -> Any:
        """The document a step is about, with its files and signature verdict, shown beside the form."""
        if task.subject_type not in ("incoming", "outgoing") or task.subject_id is None:
            return None
        try:
            return dq.get_document(actor.agency_id, task.subject_id, actor)
        except NotFoundError:
            return None

    @staticmethod
    def _context(task: Any) -> dict[str, Any]:
        """Data earlier steps chose (e.g. the lead department) so choices can be filtered by it."""
        ctx: dict[str, Any] = {}
        if task.candidate_department_id is not None:
            ctx["lead_department_id"] = task.candidate_department_id
        ctx.update(task.form_data or {})
        return ctx


register_common_grants("InboxView", ("can_index",))
register_common_grants("TaskView", ("can_show", "can_claim"))
register_common_grants("Hộp công việc", ("menu_access",))
register_common_grants("Văn bản", ("menu_access",))


def register(appbuilder: Any) -> None:
    appbuilder.add_view(InboxView, "Hộp công việc", href="/inbox/", category="Văn bản", icon="fa-inbox",
                        category_icon="fa-file-text")
    appbuilder.add_view_no_menu(TaskView)
