"""Tìm kiếm: the search box in the banner, the results page with filters, and saved searches."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.admin.permissions import register_common_grants
from app.documents.queries import STATUS_LABELS
from app.extensions import db
from app.search.criteria import DIRECTIONS, SORTS, SearchCriteria, criteria_from_params
from app.search.errors import SearchExportError, SearchQueryError
from app.search.export import COLUMNS, FORMATS, export_search, parse_columns
from app.search.queries import filter_choices, saved_searches, search_documents
from app.search.services import delete_saved_search, save_search
from app.tenancy.queries import departments_of

from .auth import current_actor


class SearchView(BaseView):
    route_base = "/search"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        actor = current_actor()
        params = request.args.to_dict()
        params.pop("cols", None)
        result = error = None
        criteria: SearchCriteria | None = None
        try:
            columns = parse_columns(request.args.getlist("cols"))
        except SearchExportError:
            columns = parse_columns([])
        try:
            criteria = criteria_from_params(params)
            if criteria.parsed or criteria.has_filters:
                result = search_documents(actor, criteria)
        except SearchQueryError as exc:
            error = exc
        return self.render_template(
            "search/index.html", params=params, criteria=criteria, result=result, error=error,
            choices=filter_choices(actor.agency_id), departments=departments_of(actor.agency_id),
            statuses=STATUS_LABELS, directions=DIRECTIONS, sorts=SORTS, saved=saved_searches(actor),
            export_columns=COLUMNS, chosen_columns=columns, export_formats=FORMATS,
        )

    @expose("/export")
    @has_access
    def export(self) -> Any:
        """The results of the same query string as a file (every page, the ticked columns)."""
        actor = current_actor()
        params = {k: v for k, v in request.args.to_dict().items() if k not in ("cols", "format", "page", "per_page")}
        criteria = criteria_from_params(params)
        exported = export_search(actor, criteria, request.args.getlist("cols"), request.args.get("format", ""))
        db.session.commit()  # the audit line
        return Response(exported.content, mimetype=exported.mimetype, headers={
            "Content-Disposition": f'attachment; filename="{exported.filename}"', "Cache-Control": "no-store"})

    @expose("/save", methods=["POST"])
    @has_access
    def save(self) -> Any:
        actor = current_actor()
        params = {k: v for k, v in request.form.items() if k not in ("csrf_token", "name")}
        criteria = criteria_from_params(params)
        saved = save_search(actor, request.form.get("name", ""), criteria)
        db.session.commit()
        flash(f"Đã lưu điều kiện tìm kiếm “{saved.name}”.", "success")
        return redirect(url_for("SearchView.index", **saved.params))

    @expose("/saved/<int:saved_id>/delete", methods=["POST"])
    @has_access
    def delete(self, saved_id: int) -> Any:
        delete_saved_search(current_actor(), saved_id)
        db.session.commit()
        flash("Đã xóa điều kiện tìm kiếm đã lưu.", "success")
        return redirect(url_for("SearchView.index"))


register_common_grants("SearchView", ("can_index", "can_save", "can_delete", "can_export"))
register_common_grants("Tìm kiếm", ("menu_access",))


def register(appbuilder: Any) -> None:
    appbuilder.add_view(SearchView, "Tìm kiếm", href="/search/", category="Văn bản", icon="fa-search")
