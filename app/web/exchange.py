"""Trao đổi: my threads with unread badges, a thread with its replies and files, starting a thread."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.admin.permissions import register_common_grants
from app.core.errors import DomainError, NotFoundError, ValidationError
from app.exchange import queries, services
from app.exchange.info import FileInput
from app.extensions import db
from app.tenancy.queries import staff_of

from .auth import current_actor
from .uploads import opens_inline, send_blob

PAGE_SIZE = 30


def _files() -> list[FileInput]:
    return [FileInput(f.filename or "tep", f.read()) for f in request.files.getlist("files") if f and f.filename]


def _subject_arg() -> tuple[str | None, int | None]:
    kind = request.values.get("subject_type") or None
    raw = request.values.get("subject_id") or ""
    return (kind, int(raw)) if kind and raw.isdigit() else (None, None)


class ExchangeView(BaseView):
    route_base = "/exchange"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        actor = current_actor()
        page = max(request.args.get("page", 1, type=int) or 1, 1)
        kind, subject_id = _subject_arg()
        threads = queries.threads_for(actor, subject=(kind, subject_id) if kind and subject_id else None,
                                      limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
        return self.render_template("exchange/index.html", threads=threads[:PAGE_SIZE],
                                    has_more=len(threads) > PAGE_SIZE, page=page, labels=services.SUBJECT_LABELS,
                                    unread=queries.unread_total(actor.user_id, actor.agency_id))

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self) -> Any:
        actor = current_actor()
        kind, subject_id = _subject_arg()
        errors: dict[str, list[str]] = {}
        if request.method == "POST":
            try:
                thread_id = services.start_thread(
                    actor, title=request.form.get("title", ""), body=request.form.get("body", ""),
                    participant_user_ids=[int(v) for v in request.form.getlist("participants") if v.isdigit()],
                    subject_type=kind, subject_id=subject_id, files=_files())
                db.session.commit()
            except ValidationError as exc:
                db.session.rollback()
                flash(exc.message, "danger")
                errors = exc.field_errors
            except DomainError as exc:
                db.session.rollback()
                flash(exc.message, "danger")
            else:
                flash("Đã gửi nội dung trao đổi.", "success")
                return redirect(url_for("ExchangeView.show", thread_id=thread_id))
        people = [s for s in staff_of(actor.agency_id) if s.user_id != actor.user_id]
        return self.render_template("exchange/new.html", people=people, errors=errors, form=request.form,
                                    chosen=request.form.getlist("participants"), subject_type=kind,
                                    subject_id=subject_id, labels=services.SUBJECT_LABELS)

    @expose("/<int:thread_id>")
    @has_access
    def show(self, thread_id: int) -> Any:
        actor = current_actor()
        try:
            thread = queries.thread_detail(actor, thread_id)
        except NotFoundError:
            abort(404)
        services.mark_read(actor, thread_id)  # opening the thread is reading it
        db.session.commit()
        return self.render_template("exchange/thread.html", thread=thread, me=actor.user_id,
                                    labels=services.SUBJECT_LABELS)

    @expose("/<int:thread_id>/reply", methods=["POST"])
    @has_access
    def reply(self, thread_id: int) -> Any:
        actor = current_actor()
        try:
            message = services.reply(actor, thread_id, request.form.get("body", ""), _files())
            db.session.commit()
        except NotFoundError:
            db.session.rollback()
            abort(404)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
            return redirect(url_for("ExchangeView.show", thread_id=thread_id))
        return redirect(url_for("ExchangeView.show", thread_id=thread_id, _anchor=f"m{message.id}"))

    @expose("/file/<int:file_id>")
    @has_access
    def file(self, file_id: int) -> Any:
        actor = current_actor()
        try:
            info, stream = queries.file_stream_for(actor, file_id)
        except NotFoundError:
            abort(404)
        return send_blob(stream, filename=info.filename, content_type=info.content_type,
                         inline=opens_inline(stream, info.content_type))


register_common_grants("ExchangeView", ("can_index", "can_new", "can_show", "can_reply", "can_file"))
register_common_grants("Trao đổi", ("menu_access",))


def register(appbuilder: Any) -> None:
    appbuilder.add_view(ExchangeView, "Trao đổi", href="/exchange/", category="Điều hành", icon="fa-comments")
