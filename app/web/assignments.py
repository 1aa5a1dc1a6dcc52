"""Giao việc: lists (assigned to me, assigned by me, overdue), the assigning form, one item's page."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import select

from app.admin.permissions import register_common_grants, register_grants
from app.assignments import queries as q
from app.assignments import services
from app.core.errors import ValidationError
from app.core.text import fold
from app.extensions import db
from app.tenancy import roles as R
from app.tenancy.models import Staff
from app.tenancy.queries import departments_of, staff_of
from app.workflow import queries as wfq
from app.workflow import services as wf

from . import subjects
from .auth import current_actor
from .inbox import EVENT_LABELS
from .listing import read_listing
from .uploads import posted_files, send_stored

log = logging.getLogger("qlvb.assignments")

TABS = [("assigned_to_me", "Việc được giao"), ("assigned_by_me", "Việc tôi giao"), ("overdue", "Quá hạn"),
        ("all", "Tất cả")]
STATUS_LABELS = {"open": "Đang thực hiện", "done": "Chờ đánh giá", "evaluated": "Đã đánh giá"}
EXTENSION_LABELS = {"pending": "Chờ quyết định", "approved": "Đã đồng ý", "refused": "Không đồng ý"}
STEP_ACTIONS = {"report": "Báo cáo tiến độ / hoàn thành", "extension_decision": "Xét đề nghị gia hạn",
                "evaluate": "Đánh giá kết quả"}


def _names(user_ids: set[int], agency_id: int) -> dict[int, str]:
    return {s.user_id: s.full_name for s in staff_of(agency_id) if s.user_id in user_ids}


def staff_names(user_ids: set[int]) -> dict[int, str]:
    """Names of officials of any agency (an opinion copy is started by the requester of another agency)."""
    if not user_ids:
        return {}
    return dict(db.session.execute(select(Staff.user_id, Staff.full_name).where(Staff.user_id.in_(user_ids))).all())


def people_of(agency_id: int, *, but: int) -> list[Any]:
    """Colleagues in Vietnamese alphabetical order ("Đặng" beside "Dương", not after "Vũ")."""
    return sorted((s for s in staff_of(agency_id) if s.user_id != but), key=lambda s: fold(s.full_name))


# Progress reports and extension decisions reopen the report step on purpose: only "rework" sends work back.
_RETURN_DECISIONS = frozenset({"rework", "return", "send_back"})


def timeline(instance_id: int | None) -> list[dict[str, Any]]:
    """The instance's events in words of these pages."""
    if instance_id is None:
        return []
    events = wfq.instance_timeline(instance_id)
    names = staff_names({e.actor_id for e in events if e.actor_id})
    rows = []
    for e in events:
        kind = e.kind
        if kind == "returned" and (e.data or {}).get("decision") not in _RETURN_DECISIONS:
            kind = "completed"
        label = {"opened": "Chuyển đến bước", "finished": "Kết thúc"}.get(kind) or EVENT_LABELS.get(kind, kind)
        rows.append({"at": e.at, "who": names.get(e.actor_id or 0, "Hệ thống"), "kind": label, "task": e.task_name,
                     "comment": e.comment})
    return rows


def _parse_links(values: list[str]) -> list[tuple[str, int]]:
    out = []
    for value in values:
        kind, _, ident = value.partition(":")
        if kind and ident.isdigit():
            out.append((kind, int(ident)))
    return out


class AssignmentsView(BaseView):
    route_base = "/assignments"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        actor = current_actor()
        listing = read_listing(TABS)
        items = q.list_work_items(actor, listing.tab, limit=listing.size, offset=listing.offset)
        counts = listing.counts(partial(q.count_work_items, actor))
        names = _names({i.lead_user_id for i in items} | {i.assigned_by_id for i in items}, actor.agency_id)
        return self.render_template("assignments/index.html", listing=listing, items=items, counts=counts,
                                    names=names, status_labels=STATUS_LABELS,
                                    may_assign=bool(services.ASSIGNING_ROLES & actor.roles),
                                    is_leader=R.LEADER in actor.roles)

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self) -> Any:
        actor = current_actor()
        if not services.ASSIGNING_ROLES & actor.roles:
            abort(403)
        values: dict[str, Any] = {"links": request.values.getlist("link")}
        errors: dict[str, list[str]] = {}
        if request.method == "POST":
            form = request.form
            values = {
                "title": form.get("title", ""), "description": form.get("description", ""),
                "lead_user_id": form.get("lead_user_id", ""), "lead_department_id": form.get("lead_department_id", ""),
                "coordinating_user_ids": form.getlist("coordinating_user_ids"),
                "coordinating_department_ids": form.getlist("coordinating_department_ids"),
                "deadline": form.get("deadline", ""), "attachments_note": form.get("attachments_note", ""),
                "links": form.getlist("link"),
            }
            try:
                item = services.create_work_item(
                    actor, title=values["title"], description=values["description"],
                    lead_user_id=int(values["lead_user_id"]) if values["lead_user_id"].isdigit() else None,
                    lead_department_id=(int(values["lead_department_id"])
                                        if values["lead_department_id"].isdigit() else None),
                    coordinating_user_ids=values["coordinating_user_ids"],
                    coordinating_department_ids=values["coordinating_department_ids"],
                    deadline=values["deadline"], attachments_note=values["attachments_note"],
                    links=_parse_links(values["links"]), files=posted_files())
                db.session.commit()
            except ValidationError as exc:
                db.session.rollback()
                errors = {k: list(v) for k, v in (exc.field_errors or {}).items()}
                flash(exc.message, "danger")
            else:
                log.info("work item %s assigned by user %s", item.id, actor.user_id)
                flash(f"Đã giao việc: {item.title}.", "success")
                return redirect(url_for("AssignmentsView.show", item_id=item.id))
        links = _parse_links(values.get("links") or [])
        about = subjects.describe(actor.agency_id, links)
        people = people_of(actor.agency_id, but=actor.user_id)
        return self.render_template("assignments/new.html", values=values, errors=errors, people=people,
                                    departments=departments_of(actor.agency_id), links=links, about=about)

    @expose("/<int:item_id>")
    @has_access
    def show(self, item_id: int) -> Any:
        actor = current_actor()
        detail = q.work_item_detail(actor, item_id)
        if detail is None:
            abort(404)
        item = detail.item
        steps = []
        if item.instance_id is not None:
            for task in wfq.open_tasks(item.instance_id):
                steps.append({"task": task, "may_act": wf.can_act(task, actor),
                              "action": STEP_ACTIONS.get(task.step_kind or "", task.name)})
        ids = {item.assigned_by_id, item.lead_user_id, *item.coordinating_user_ids,
               *(r.reported_by_id for r in detail.reports), *(e.requested_by_id for e in detail.extensions),
               *(e.decided_by_id for e in detail.extensions if e.decided_by_id)}
        names = _names(ids, actor.agency_id)
        deps = {d.id: d.name for d in departments_of(actor.agency_id)}
        about = subjects.describe(actor.agency_id, detail.links)
        return self.render_template("assignments/show.html", d=detail, item=item, steps=steps, names=names,
                                    deps=deps, about=about, status_labels=STATUS_LABELS,
                                    extension_labels=EXTENSION_LABELS, ratings=services.RATINGS,
                                    timeline=timeline(item.instance_id))

    @expose("/<int:item_id>/files/<int:file_id>")
    @has_access
    def file(self, item_id: int, file_id: int) -> Any:
        return send_stored(q.file_for(current_actor(), item_id, file_id), what="work_file")


def describe_items(agency_id: int, ids: list[int]) -> dict[int, subjects.SubjectInfo]:
    out = {}
    for item_id, (title, deadline, _status) in q.titles(agency_id, ids).items():
        out[item_id] = subjects.SubjectInfo(title=title, number=f"Hạn {deadline:%d/%m/%Y}",
                                            link=f"/assignments/{item_id}", kind_label="Giao việc")
    return out


VIEW_PERMS = ("can_index", "can_show", "can_file")
register_common_grants("AssignmentsView", VIEW_PERMS)
for _role in (R.LEADER, R.HEAD):
    register_grants(_role, "AssignmentsView", (*VIEW_PERMS, "can_new"))
register_common_grants("Giao việc", ("menu_access",))
register_common_grants("Điều hành", ("menu_access",))


def register(appbuilder: Any) -> None:
    subjects.DESCRIBERS[services.SUBJECT_TYPE] = describe_items
    appbuilder.add_view(AssignmentsView, "Giao việc", href="/assignments/", category="Điều hành", icon="fa-tasks",
                        category_icon="fa-briefcase")
