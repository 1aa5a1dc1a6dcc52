"""Xin ý kiến: lists, the request form, one request's page with the consolidated answers and the answer form."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.admin.permissions import register_common_grants
from app.core.errors import ConflictError, ValidationError
from app.extensions import db
from app.opinions import queries as q
from app.opinions import services
from app.workflow import queries as wfq
from app.workflow import services as wf

from . import subjects
from .assignments import people_of, timeline
from .auth import current_actor
from .listing import read_listing
from .uploads import posted_files, send_stored

log = logging.getLogger("qlvb.opinions")

TABS = [("to_answer", "Cần cho ý kiến"), ("mine", "Tôi xin ý kiến"), ("answered", "Đã cho ý kiến")]
STATUS_LABELS = {"open": "Đang xin ý kiến", "consolidated": "Đã tổng hợp"}


def _external(values: list[str]) -> list[tuple[str, int | None]]:
    """``agency:<code>`` asks the agency (its leaders share it); ``user:<code>:<id>`` asks one of its leaders."""
    out: list[tuple[str, int | None]] = []
    for value in values:
        kind, _, rest = value.partition(":")
        if kind == "agency" and rest:
            out.append((rest, None))
        elif kind == "user":
            code, _, uid = rest.partition(":")
            if code and uid.isdigit():
                out.append((code, int(uid)))
    return out


class OpinionsView(BaseView):
    route_base = "/opinions"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        actor = current_actor()
        listing = read_listing(TABS)
        rows = q.list_requests(actor, listing.tab, limit=listing.size, offset=listing.offset)
        counts = listing.counts(partial(q.count_requests, actor))
        return self.render_template("opinions/index.html", listing=listing, rows=rows, counts=counts,
                                    status_labels=STATUS_LABELS)

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self) -> Any:
        actor = current_actor()
        values: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        if request.method == "POST":
            form = request.form
            values = {"title": form.get("title", ""), "content": form.get("content", ""),
                      "deadline": form.get("deadline", ""), "reviewer_user_ids": form.getlist("reviewer_user_ids"),
                      "external_reviewers": form.getlist("external_reviewers")}
            try:
                info = services.create_opinion_request(
                    actor, title=values["title"], content=values["content"], deadline=values["deadline"],
                    reviewer_user_ids=values["reviewer_user_ids"],
                    external_reviewers=_external(values["external_reviewers"]), files=posted_files())
                db.session.commit()
            except ValidationError as exc:
                db.session.rollback()
                errors = {k: list(v) for k, v in (exc.field_errors or {}).items()}
                flash(exc.message, "danger")
            else:
                log.info("opinion request %s sent by user %s", info.id, actor.user_id)
                flash(f"Đã gửi xin ý kiến: {info.title}.", "success")
                return redirect(url_for("OpinionsView.show", request_id=info.id))
        people = people_of(actor.agency_id, but=actor.user_id)
        return self.render_template("opinions/new.html", values=values, errors=errors, people=people,
                                    agencies=q.external_choices(actor.agency_id))

    def _detail(self, request_id: int) -> Any:
        actor = current_actor()
        detail = q.opinion_detail(actor, request_id)
        if detail is None:
            abort(404)
        return actor, detail

    @expose("/<int:request_id>")
    @has_access
    def show(self, request_id: int) -> Any:
        actor, detail = self._detail(request_id)
        req = detail.request
        is_requester = req.requester_id == actor.user_id and not req.is_copy
        # Reviewers see their own answer; the requester sees everyone's (the consolidated table).
        rows = detail.reviewers if is_requester else tuple(
            r for r in detail.reviewers if r.user_id in (actor.user_id, None) or r.answered_by_id == actor.user_id)
        answer_task = services.answer_task_for(req.id, actor)
        consolidate_task = None
        if is_requester and req.instance_id is not None:
            consolidate_task = next((t for t in wfq.open_tasks(req.instance_id)
                                     if t.step_kind == "consolidate" and wf.can_act(t, actor)), None)
        return self.render_template("opinions/show.html", d=detail, req=req, rows=rows, is_requester=is_requester,
                                    answer_task=answer_task, consolidate_task=consolidate_task, answers=q.ANSWERS,
                                    status_labels=STATUS_LABELS, timeline=timeline(req.instance_id))

    @expose("/<int:request_id>/answer", methods=["POST"])
    @has_access
    def answer(self, request_id: int) -> Any:
        actor, detail = self._detail(request_id)
        task = services.answer_task_for(detail.request.id, actor)
        if task is None:
            flash("Phiếu này không còn chờ ý kiến của bạn.", "warning")
            return redirect(url_for("OpinionsView.show", request_id=request_id))
        try:
            # One path for every step: the step's kind runs the domain's answer (as the inbox page does).
            wf.complete_task(task.id, actor, {"answer": request.form.get("answer", ""),
                                              "comment": request.form.get("comment", "")},
                             inputs={"files": {"files": posted_files()}})
            db.session.commit()
        except (ValidationError, ConflictError) as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            flash("Đã gửi ý kiến của bạn.", "success")
        return redirect(url_for("OpinionsView.show", request_id=request_id))

    @expose("/<int:request_id>/consolidate", methods=["POST"])
    @has_access
    def consolidate(self, request_id: int) -> Any:
        actor, detail = self._detail(request_id)
        req = detail.request
        task = None
        if req.instance_id is not None and req.requester_id == actor.user_id:
            task = next((t for t in wfq.open_tasks(req.instance_id) if t.step_kind == "consolidate"), None)
        if task is None:
            flash("Chưa thể tổng hợp: còn người chưa cho ý kiến hoặc phiếu đã được tổng hợp.", "warning")
            return redirect(url_for("OpinionsView.show", request_id=request_id))
        try:
            wf.complete_task(task.id, actor, {"summary": request.form.get("summary", "")})
            db.session.commit()
        except (ValidationError, ConflictError) as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            flash("Đã tổng hợp ý kiến.", "success")
        return redirect(url_for("OpinionsView.show", request_id=request_id))

    @expose("/<int:request_id>/files/<int:file_id>")
    @has_access
    def file(self, request_id: int, file_id: int) -> Any:
        return send_stored(q.file_for(current_actor(), request_id, file_id), what="opinion_file")


def describe_requests(agency_id: int, ids: list[int]) -> dict[int, subjects.SubjectInfo]:
    out = {}
    for request_id, (title, deadline, origin) in q.describe(agency_id, ids).items():
        label = f"Xin ý kiến của {origin}" if origin else "Xin ý kiến"
        out[request_id] = subjects.SubjectInfo(title=title, number=f"Hạn {deadline:%d/%m/%Y}",
                                               link=f"/opinions/{request_id}", kind_label=label)
    return out


register_common_grants("OpinionsView", ("can_index", "can_new", "can_show", "can_answer", "can_consolidate",
                                        "can_file"))
register_common_grants("Xin ý kiến", ("menu_access",))
register_common_grants("Điều hành", ("menu_access",))


def register(appbuilder: Any) -> None:
    subjects.DESCRIBERS[services.SUBJECT_TYPE] = describe_requests
    appbuilder.add_view(OpinionsView, "Xin ý kiến", href="/opinions/", category="Điều hành", icon="fa-comments",
                        category_icon="fa-briefcase")
