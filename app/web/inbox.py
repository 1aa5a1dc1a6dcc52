"""Staff inbox: to do, in progress, overdue, done; a task page that renders its form and completes it."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from markupsafe import Markup
from werkzeug.datastructures import CombinedMultiDict, MultiDict

from app.admin.permissions import register_common_grants
from app.core import revisions
from app.core.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    RefusedError,
    ValidationError,
)
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
from app.workflow.operations import operation_kind
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
    principals = {_on_behalf_of(e) for e in events} - {None}
    names = _people({e.actor_id for e in events if e.actor_id} | principals, agency_id)  # type: ignore[operator]
    rows = []
    process_key = None
    for e in events:
        who = names.get(e.actor_id or 0, "Hệ thống")
        principal = _on_behalf_of(e)
        if principal is not None:  # a deputy's step shows both names
            who = f"{who} (ủy quyền của {names.get(principal, 'người khác')})"
        task = e.task_name
        if e.kind == "operation" and not task:  # an automatic step: named by its kind («Gửi văn bản điện tử»)
            process_key = process_key or wfq.get_instance(instance_id).process_key
            info = kind_info(process_key, operation_kind(str((e.data or {}).get("operation") or "")))
            task = info.label if info is not None else None
        rows.append({"at": e.at, "who": who, "kind": EVENT_LABELS.get(e.kind, e.kind), "task": task,
                     "comment": e.comment})
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


SORT_LABELS = {"due": "Hạn xử lý", "received": "Ngày nhận", "urgency": "Độ khẩn"}
DUE_LABELS = {"overdue": "Quá hạn", "today": "Đến hạn hôm nay", "soon": "Trong 3 ngày", "none": "Không hạn"}
PROCESS_FILTER_LABELS = {"incoming": "Văn bản đến", "outgoing": "Văn bản đi", "other": "Quy trình khác"}
# "Most urgent first" is what a person sorting by urgency wants; dates start with the nearest.
_DEFAULT_DESC = {"due": False, "received": False, "urgency": True}


def read_filters(departments: dict[str, str]) -> tuple[wfq.InboxFilter, dict[str, str]]:
    """The inbox's filters and order from the query string; unknown values are ignored, never an error.

    Returns the filter and the arguments to keep in every link of the page (tabs, pages, the form)."""
    args = request.args
    kept: dict[str, str] = {}

    def pick(name: str, allowed: Any) -> str | None:
        value = args.get(name, "")
        if value in allowed:
            kept[name] = value
            return value
        return None

    urgency = pick("urgency", URGENCY)
    due = pick("due", DUE_LABELS)
    process = pick("process", PROCESS_FILTER_LABELS)
    department = pick("department", departments)
    sort = pick("sort", SORT_LABELS) or "due"
    direction = pick("dir", ("asc", "desc"))
    descending = _DEFAULT_DESC[sort] if direction is None else direction == "desc"
    filters = wfq.InboxFilter(urgency=urgency, due=due, process=process,
                              department_id=int(department) if department else None, sort=sort,
                              descending=descending)
    return filters, kept


def _on_behalf_of(event: Any) -> int | None:
    value = (event.data or {}).get("on_behalf_of")
    return value if isinstance(value, int) else None


class InboxView(BaseView):
    route_base = "/inbox"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        actor = current_actor()
        listing = read_listing(TABS, arg="tab")
        departments = dict(AgencyChoices(actor.agency_id).choices_for("departments", None, {}))
        filters, kept = read_filters(departments)
        counts = wfq.count_inbox_buckets(actor, tuple(key for key, _ in TABS), filters=filters)
        tasks = wfq.inbox(actor, listing.tab, limit=listing.size, offset=listing.offset, filters=filters)
        about = subjects.describe(actor.agency_id, [(t.subject_type, t.subject_id) for t in tasks])
        on_behalf = {p.user_id for p in actor.on_behalf}
        principals = _people(on_behalf, actor.agency_id) if on_behalf else {}
        rows = [{"task": t, "for": principals.get(wf.acting_for(t, actor) or 0) if on_behalf else None,
                 "claimable": TaskView._can_claim(t, actor), "bulk": _bulk_field(t) is not None
                 and wf.can_act(t, actor)} for t in tasks]
        return self.render_template(
            "inbox/index.html", listing=listing, counts=counts, tasks=tasks, rows=rows, about=about,
            labels=subjects.PROCESS_LABELS, kept=kept, filters=filters, departments=departments, urgency=URGENCY,
            due_labels=DUE_LABELS, process_labels=PROCESS_FILTER_LABELS, sort_labels=SORT_LABELS,
            principals=principals, any_bulk=any(r["bulk"] for r in rows),
            any_claimable=any(r["claimable"] for r in rows))

    @expose("/bulk", methods=["POST"])
    @has_access
    def bulk(self) -> Any:
        """Several tasks at once: mark read, claim, or assign incoming documents to one department."""
        actor = current_actor()
        back = request.form.get("back", "")
        target = url_for("InboxView.index") + ("?" + back if back and _safe_query(back) else "")
        try:
            ids = sorted({int(v) for v in request.form.getlist("task_id")})
        except (TypeError, ValueError, OverflowError):
            abort(400)
        if any(i <= 0 or i >= 2**63 for i in ids):
            abort(400)
        if not ids:
            flash("Chưa chọn công việc nào.", "warning")
            return redirect(target)
        action = request.form.get("action", "")
        if action == "read":
            marked = wf.mark_tasks_read(ids, actor)
            from app.notifications.services import mark_read_for_links
            from app.notifications.tasks import task_link

            mark_read_for_links(actor.user_id, actor.agency_id, [task_link(i) for i in ids])
            db.session.commit()
            flash(f"Đã đánh dấu đã đọc {marked} công việc.", "success")
        elif action == "claim":
            self._bulk_claim(actor, ids)
        elif action == "assign":
            self._bulk_assign(actor, ids, request.form.get("department_id", ""))
        else:
            abort(400)
        return redirect(target)

    @staticmethod
    def _bulk_claim(actor: Any, ids: list[int]) -> None:
        done, failed = 0, []
        for task_id in ids:
            try:
                task = wfq.get_task(task_id)
                if task.agency_id != actor.agency_id:
                    raise NotFoundError("Không tìm thấy công việc")
                wf.claim_task(task.id, actor)
                db.session.commit()
                done += 1
            except DomainError as exc:
                db.session.rollback()
                failed.append(exc.message)
        _report(f"Đã nhận xử lý {done} công việc", "công việc không nhận được", failed)

    @staticmethod
    def _bulk_assign(actor: Any, ids: list[int], department: str) -> None:
        """Each task through the same service as its own page (its step kind's effects, its form's rules),
        one transaction per task: one that cannot be assigned leaves the others assigned."""
        choices = AgencyChoices(actor.agency_id)
        if department not in dict(choices.choices_for("departments", None, {})):
            flash("Vui lòng chọn đơn vị chủ trì của cơ quan.", "danger")
            return
        done, failed = 0, []
        for task_id in ids:
            title = f"Công việc #{task_id}"
            try:
                task = wfq.get_task(task_id)
                if task.agency_id != actor.agency_id:
                    raise NotFoundError("Không tìm thấy công việc")
                about = subjects.describe(actor.agency_id, [(task.subject_type, task.subject_id)])
                title = about[(task.subject_type, task.subject_id)].title
                field = _bulk_field(task)
                if field is None or not task.form_key:
                    raise RefusedError(f"bước «{task.name}» không giao hàng loạt được, hãy mở để xử lý")
                if not wf.can_act(task, actor):
                    raise PermissionDeniedError("bạn không có quyền xử lý công việc này")
                defn = effective_form(actor.agency_id, task.form_key, _forms_dir())
                form = build_form(defn, choices=choices, formdata=MultiDict({field: department}),
                                  context=TaskView._context(task), csrf=False)
                data = validate_submission(defn, form)
                complete(task, actor, data, {}, None)
                db.session.commit()
                done += 1
                log.info("task %s assigned in bulk to department %s by user %s", task.id, department, actor.user_id)
            except ValidationError as exc:
                db.session.rollback()
                details = [m for messages in exc.field_errors.values() for m in messages]
                failed.append(f"{title}: {' '.join([exc.message, *details])}")
            except DomainError as exc:
                db.session.rollback()
                log.warning("bulk assignment of task %s refused for user %s: %s", task_id, actor.user_id, exc.log)
                failed.append(f"{title}: {exc.message}")
        _report(f"Đã giao {done} văn bản", "văn bản không giao được", failed)


def _bulk_field(task: Any) -> str | None:
    kind = kind_info(task.process_key, task.step_kind)
    return kind.bulk_field if kind is not None and task.state == "open" else None


def _report(done: str, failed_label: str, failed: list[str]) -> None:
    """One Vietnamese line per bulk action: "Đã giao 3 văn bản; 1 văn bản không giao được: …"."""
    if failed:
        flash(f"{done}; {len(failed)} {failed_label}: " + "; ".join(failed), "warning")
    else:
        flash(f"{done}.", "success")


def _safe_query(query: str) -> bool:
    """The inbox's own query string to return to (no path, scheme or control characters)."""
    return len(query) < 500 and all(c.isalnum() or c in "=&_-%." for c in query)


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
        principal = wf.acting_for(task, actor) if may_act and actor.on_behalf else None
        acting_for_name = _people({principal}, actor.agency_id).get(principal) if principal else None
        return self.render_template("inbox/task.html", task=task, form_html=form_html, readonly_html=readonly_html,
                                    kind=kind, document=document, kinds=ATTACHMENT_KIND,
                                    urgency=URGENCY, channel=CHANNEL,
                                    about=about, instance=instance, may_act=may_act,
                                    can_claim=self._can_claim(task, actor), labels=subjects.PROCESS_LABELS,
                                    acting_for_name=acting_for_name, **tl)

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


register_common_grants("InboxView", ("can_index", "can_bulk"))
register_common_grants("TaskView", ("can_show", "can_claim"))
register_common_grants("Hộp công việc", ("menu_access",))
register_common_grants("Văn bản", ("menu_access",))


def register(appbuilder: Any) -> None:
    appbuilder.add_view(InboxView, "Hộp công việc", href="/inbox/", category="Văn bản", icon="fa-inbox",
                        category_icon="fa-file-text")
    appbuilder.add_view_no_menu(TaskView)
