"""Lịch công tác: the week view, adding/editing events, approve/publish, PDF, and secret iCalendar feeds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.admin.permissions import register_common_grants
from app.calendar import feeds, printing, queries, rules, services
from app.calendar.info import EventInfo, EventInput, WeekViewResult
from app.core import clock
from app.core.errors import NotFoundError, ValidationError
from app.deadlines.workdays import day_kind_label
from app.extensions import db
from app.tenancy.models import Agency
from app.tenancy.queries import staff_of
from app.workflow.info import ActorRef

from .auth import current_actor, current_agency

FEED_PAST = dt.timedelta(weeks=8)
FEED_AHEAD = dt.timedelta(weeks=26)


def _date_arg(name: str) -> dt.date:
    raw = request.values.get(name) or ""
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return clock.today()


def _department_arg() -> int | None:
    raw = request.values.get("department") or ""
    return int(raw) if raw.isdigit() else None


def _time(name: str, errors: dict[str, list[str]], *, required: bool) -> dt.time | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        if required:
            errors[name] = ["Nhập giờ (ví dụ 08:00)"]
        return None
    try:
        return dt.time.fromisoformat(raw)
    except ValueError:
        errors[name] = ["Giờ không hợp lệ (ví dụ 08:00)"]
        return None


def _event_input() -> EventInput:
    errors: dict[str, list[str]] = {}
    try:
        day = dt.date.fromisoformat(request.form.get("day") or "")
    except ValueError:
        errors["day"] = ["Chọn ngày"]
        day = clock.today()
    start = _time("start_time", errors, required=True)
    end = _time("end_time", errors, required=False)
    if errors:
        raise ValidationError("Thông tin lịch công tác chưa hợp lệ", field_errors=errors)
    chair = request.form.get("chair_user_id") or ""
    return EventInput(
        day=day, start_time=start or dt.time(8, 0), end_time=end, content=request.form.get("content", ""),
        location=request.form.get("location", ""), chair_user_id=int(chair) if chair.isdigit() else None,
        chair_name=request.form.get("chair_name", ""),
        participant_user_ids=tuple(int(v) for v in request.form.getlist("participant_user_ids") if v.isdigit()),
        participants=request.form.get("participants", ""), preparing_unit=request.form.get("preparing_unit", ""),
    )


def _week_view(actor: ActorRef) -> WeekViewResult:
    """The week of the calendar the query string names (``week``, ``department``); 404 for another agency's."""
    try:
        return queries.week_view(actor, _department_arg(), _date_arg("week"))
    except NotFoundError:
        abort(404)


def _event(actor: ActorRef, event_id: int) -> EventInfo:
    try:
        return queries.get_event(actor, event_id)
    except NotFoundError:
        abort(404)


def _week_url(department_id: int | None, day: dt.date) -> str:
    return url_for("CalendarView.index", week=rules.week_start(day).isoformat(), department=department_id)


class CalendarView(BaseView):
    route_base = "/calendar"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        actor = current_actor()
        view = _week_view(actor)
        names = queries.people_names(actor.agency_id, [e for d in view.days for e in d.events])
        start = view.week.week_start
        return self.render_template(
            "calendar/week.html", view=view, names=names, calendars=queries.calendars_of(actor.agency_id),
            week_label=rules.week_label(start), state_labels=rules.STATE_LABELS, session_label=rules.session_label,
            prev_week=(start - dt.timedelta(days=7)).isoformat(), next_week=(start + dt.timedelta(days=7)).isoformat(),
            this_week=rules.week_start(clock.today()).isoformat(), today=clock.today(),
            department_id=view.calendar.department_id)

    def _form(self, department_id: int | None, event: Any, data: dict[str, Any], errors: dict[str, list[str]]) -> Any:
        actor = current_actor()
        people = staff_of(actor.agency_id)
        return self.render_template("calendar/event_form.html", event=event, data=data, errors=errors, people=people,
                                    calendar=queries.calendar_ref(actor.agency_id, department_id),
                                    department_id=department_id)

    @expose("/event/new", methods=["GET", "POST"])
    @has_access
    def add(self) -> Any:
        actor = current_actor()
        department_id = _department_arg()
        if not rules.can_edit(actor, department_id):
            abort(403)
        if request.method == "POST":
            try:
                event = services.add_event(actor, department_id, _event_input())
                db.session.commit()
            except ValidationError as exc:
                db.session.rollback()
                flash(exc.message, "danger")
                return self._form(department_id, None, request.form.to_dict(flat=False), exc.field_errors)
            flash("Đã thêm vào lịch công tác.", "success")
            return redirect(_week_url(department_id, event.day))
        day = _date_arg("day")
        return self._form(department_id, None, {"day": [day.isoformat()], "start_time": ["08:00"]}, {})

    @expose("/event/<int:event_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, event_id: int) -> Any:
        actor = current_actor()
        event = _event(actor, event_id)
        if not rules.can_edit(actor, event.department_id):
            abort(403)
        if request.method == "POST":
            try:
                event = services.update_event(actor, event_id, _event_input())
                db.session.commit()
            except ValidationError as exc:
                db.session.rollback()
                flash(exc.message, "danger")
                return self._form(event.department_id, event, request.form.to_dict(flat=False), exc.field_errors)
            flash("Đã cập nhật lịch công tác.", "success")
            return redirect(_week_url(event.department_id, event.day))
        data = {"day": [event.day.isoformat()], "start_time": [f"{event.start_time:%H:%M}"],
                "end_time": [f"{event.end_time:%H:%M}" if event.end_time else ""], "content": [event.content],
                "location": [event.location], "chair_user_id": [str(event.chair_user_id or "")],
                "chair_name": [event.chair_name if not event.chair_user_id else ""],
                "participant_user_ids": [str(u) for u in event.participant_user_ids],
                "participants": [event.participants], "preparing_unit": [event.preparing_unit]}
        return self._form(event.department_id, event, data, {})

    @expose("/event/<int:event_id>/delete", methods=["POST"])
    @has_access
    def delete(self, event_id: int) -> Any:
        actor = current_actor()
        event = _event(actor, event_id)
        services.delete_event(actor, event_id)
        db.session.commit()
        flash("Đã xóa khỏi lịch công tác.", "success")
        return redirect(_week_url(event.department_id, event.day))

    @expose("/approve", methods=["POST"])
    @has_access
    def approve(self) -> Any:
        actor = current_actor()
        department_id, week = _department_arg(), _date_arg("week")
        services.approve_week(actor, department_id, week)
        db.session.commit()
        flash("Đã duyệt lịch công tác tuần.", "success")
        return redirect(_week_url(department_id, week))

    @expose("/publish", methods=["POST"])
    @has_access
    def publish(self) -> Any:
        actor = current_actor()
        department_id, week = _department_arg(), _date_arg("week")
        services.publish_week(actor, department_id, week)
        db.session.commit()
        flash("Đã ban hành lịch công tác tuần; cán bộ có tên trong lịch đã được thông báo.", "success")
        return redirect(_week_url(department_id, week))

    @expose("/pdf")
    @has_access
    def pdf(self) -> Any:
        actor = current_actor()
        view = _week_view(actor)
        if not view.visible:
            abort(404)
        events = [e for d in view.days for e in d.events]
        agency = db.session.get(Agency, actor.agency_id)
        start = view.week.week_start
        holidays = {start + dt.timedelta(days=i): label for i in range(7)
                    if (label := day_kind_label(start + dt.timedelta(days=i), agency_id=actor.agency_id))}
        pdf = printing.render_week_pdf(
            agency_name=agency.name if agency else "", governing_body=(agency.governing_body or "") if agency else "",
            calendar=view.calendar, week_start=start, events=events,
            names=queries.people_names(actor.agency_id, events), state=view.week.state, holidays=holidays)
        name = f"lich-cong-tac-{start.isoformat()}.pdf"
        return Response(pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{name}"'})

    @expose("/feeds")
    @has_access
    def feeds_page(self) -> Any:
        actor = current_actor()
        calendars = queries.calendars_of(actor.agency_id)
        links = []
        for scope, label in [("person", "Lịch của tôi (chủ trì hoặc tham dự)")] + [
                (f"dept:{c.department_id}" if c.department_id else "agency", f"Lịch {c.name.lower()}"
                 if c.department_id is None else f"Lịch {c.name}") for c in calendars]:
            ref = services.feed_token(actor, scope)
            links.append((label, url_for("CalendarView.ical", token=ref.token, _external=True)))
        db.session.commit()
        return self.render_template("calendar/feeds.html", links=links)

    @expose("/feeds/reset", methods=["POST"])
    @has_access
    def feeds_reset(self) -> Any:
        actor = current_actor()
        services.reset_feed_tokens(actor)
        db.session.commit()
        flash("Đã đổi toàn bộ địa chỉ đồng bộ lịch; các địa chỉ cũ không còn dùng được.", "success")
        return redirect(url_for("CalendarView.feeds_page"))

    # Calendar apps fetch this without a session: the token is the credential, valid on its own agency only.
    @expose("/ical/<token>.ics")
    def ical(self, token: str) -> Any:
        agency = current_agency()
        try:
            feed = queries.feed_by_token(token, agency.id)
        except NotFoundError:
            abort(404)
        today = clock.today()
        start, end = today - FEED_PAST, today + FEED_AHEAD
        if feed.scope_key == "person":
            events = queries.events_between(agency.id, start, end, person_user_id=feed.user_id)
            name = "Lịch công tác của tôi"
        else:
            department_id = None if feed.scope_key == "agency" else int(feed.scope_key.split(":", 1)[1])
            try:
                calendar = queries.calendar_ref(agency.id, department_id)
            except NotFoundError:
                abort(404)
            events = queries.events_between(agency.id, start, end, department_id=department_id)
            name = f"Lịch công tác – {calendar.name}"
        body = feeds.build_ics(name, events, queries.people_names(agency.id, events), domain=agency.domain)
        return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, max-age=300"})


register_common_grants("CalendarView", ("can_index", "can_add", "can_edit", "can_delete", "can_approve",
                                        "can_publish", "can_pdf", "can_feeds_page", "can_feeds_reset"))
register_common_grants("Lịch công tác", ("menu_access",))


def register(appbuilder: Any) -> None:
    appbuilder.add_view(CalendarView, "Lịch công tác", href="/calendar/", category="Điều hành", icon="fa-calendar")
