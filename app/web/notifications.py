"""Thông báo: my notifications (mark read / all read), the navbar badge, and the start-up wiring of operations.

``install`` also connects workflow signals to notifications, gives the workflow the working-day
calendar (agency days off) and starts the embedded job scheduler when no Celery broker is configured.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.admin.permissions import register_common_grants
from app.core.errors import NotFoundError
from app.deadlines.workdays import province_add_working_days
from app.extensions import db
from app.jobs import embedded
from app.notifications import queries, services, subscribers
from app.workflow.due import set_workday_calendar

from .auth import current_actor

PAGE_SIZE = 30
MENU = "Điều hành"


class NotificationView(BaseView):
    route_base = "/notifications"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        actor = current_actor()
        unread_only = request.args.get("tab") == "unread"
        page = max(request.args.get("page", 1, type=int) or 1, 1)
        items = queries.notifications_for(actor.user_id, actor.agency_id, unread_only=unread_only,
                                          limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
        return self.render_template("notifications/index.html", items=items[:PAGE_SIZE],
                                    has_more=len(items) > PAGE_SIZE, page=page, unread_only=unread_only,
                                    unread=queries.unread_count(actor.user_id, actor.agency_id))

    @expose("/<int:notification_id>/open")
    @has_access
    def open(self, notification_id: int) -> Any:
        """Follow a notification's link, marking it read on the way."""
        actor = current_actor()
        try:
            item = services.mark_read(notification_id, actor.user_id)
        except NotFoundError:
            abort(404)
        db.session.commit()
        link = item.link or ""
        safe = link.startswith("/") and not link.startswith("//")
        return redirect(link if safe else url_for("NotificationView.index"))

    @expose("/<int:notification_id>/read", methods=["POST"])
    @has_access
    def read(self, notification_id: int) -> Any:
        actor = current_actor()
        services.mark_read(notification_id, actor.user_id)
        db.session.commit()
        return redirect(url_for("NotificationView.index", tab=request.args.get("tab")))

    @expose("/read-all", methods=["POST"])
    @has_access
    def read_all(self) -> Any:
        actor = current_actor()
        count = services.mark_all_read(actor.user_id, actor.agency_id)
        db.session.commit()
        flash(f"Đã đánh dấu {count} thông báo là đã đọc.", "success")
        return redirect(url_for("NotificationView.index"))


register_common_grants("NotificationView", ("can_index", "can_open", "can_read", "can_read_all"))
register_common_grants("Thông báo", ("menu_access",))
register_common_grants(MENU, ("menu_access",))


def _badge_context() -> dict[str, object]:
    def unread_notifications() -> int:
        user, agency = getattr(g, "user", None), getattr(g, "agency", None)
        if user is None or agency is None or not user.is_authenticated:
            return 0
        return queries.unread_count(user.id, agency.id)

    return {"unread_notifications": unread_notifications}


def install(app: Flask, appbuilder: Any) -> None:
    subscribers.connect()
    set_workday_calendar(province_add_working_days)
    embedded.install(app)
    app.context_processor(_badge_context)
    appbuilder.add_view(NotificationView, "Thông báo", href="/notifications/", category=MENU, icon="fa-bell",
                        category_icon="fa-briefcase")
