"""Document pages: incoming and outgoing lists, registration, drafting, detail with timeline, diagram,
files and signatures, printable registers. Every handler: load -> check agency/role -> one service call."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from werkzeug.datastructures import CombinedMultiDict

from app.admin.permissions import register_common_grants, register_grants
from app.core import clock, signals
from app.core.errors import ConflictError, DomainError, NotFoundError, ValidationError
from app.designer.forms import effective_form
from app.documents import queries as dq
from app.documents import services as ds
from app.documents import signatures as dsig
from app.documents import withdrawal
from app.documents.attachments import UploadInfo
from app.documents.doctypes import list_document_types
from app.documents.errors import DuplicateDocumentError
from app.extensions import db
from app.forms import build_form, render_form, uploaded_files, validate_submission
from app.tenancy import roles as R
from app.tenancy.queries import staff_for_user
from app.web.form_errors import attach_field_errors
from app.workflow import queries as wfq
from app.workflow import services as wf
from app.workflow.info import ActorRef

from . import subjects
from .auth import current_actor, current_agency
from .choices import EXTRA_SOURCES, AgencyChoices
from .inbox import timeline_context
from .labels import ATTACHMENT_KIND, CHANNEL, URGENCY, status_label, statuses_for
from .uploads import as_uploads, send_blob

log = logging.getLogger("qlvb.documents")

REGISTER_KINDS = {"incoming": "Sổ đăng ký văn bản đến", "outgoing": "Sổ đăng ký văn bản đi",
                  "incoming_followup": "Sổ theo dõi giải quyết văn bản đến"}
PAGE = 30


def _forms_dir() -> Path:
    return Path(current_app.config["QLVB_FORMS_DIR"])


def _uploads(files: Mapping[str, list[Any]]) -> list[UploadInfo]:
    return [upload for storages in files.values() for upload in as_uploads(storages)]


def _document_types(_agency_id: int) -> list[tuple[str, str]]:
    return [(t.code, t.name) for t in list_document_types()]


def _describe(agency_id: int, ids: list[int]) -> dict[int, subjects.SubjectInfo]:
    out = {}
    for doc_id, summary, number_notation, urgency in dq.document_briefs(agency_id, ids):
        out[doc_id] = subjects.SubjectInfo(title=summary, number=number_notation, urgency=urgency,
                                           link=url_for("DocumentView.show", document_id=doc_id))
    return out


def _audit(kind: str, actor: ActorRef, target_type: str, target_id: int, **detail: Any) -> None:
    """Who read, downloaded, signed or printed what, and from where (Art 10; the audit log records IP/agent)."""
    signals.audit.send(kind=kind, agency_id=actor.agency_id, user_id=actor.user_id, target_type=target_type,
                       target_id=str(target_id), detail=detail or None)


class DocumentView(BaseView):
    route_base = "/documents"
    default_view = "incoming"

    # -- lists -----------------------------------------------------------------------------------------
    def _list(self, direction: str) -> Any:
        actor = current_actor()
        year = request.args.get("year", type=int) or clock.today().year
        status = request.args.get("status") or None
        page = max(request.args.get("page", 1, type=int), 1)
        result = dq.list_documents(actor.agency_id, direction=direction, actor=actor, year=year, status=status,
                                   limit=PAGE, offset=(page - 1) * PAGE)
        return self.render_template("documents/list.html", direction=direction, result=result, year=year,
                                    status=status, page=page, page_size=PAGE, urgency=URGENCY,
                                    statuses=statuses_for(direction),
                                    can_register=R.CLERK in actor.roles)

    @expose("/incoming/")
    @has_access
    def incoming(self) -> Any:
        return self._list("incoming")

    @expose("/outgoing/")
    @has_access
    def outgoing(self) -> Any:
        return self._list("outgoing")

    # -- registration and drafting ------------------------------------------------------------------------
    def _form_page(self, form_key: str, title: str, submit: str, action: Any) -> Any:
        actor = current_actor()
        agency = current_agency()
        defn = effective_form(actor.agency_id, form_key, _forms_dir())
        choices = AgencyChoices(actor.agency_id, agency.code)
        formdata = CombinedMultiDict((request.files, request.form)) if request.method == "POST" else None
        form = build_form(defn, choices=choices, formdata=formdata)
        duplicate = None
        if request.method == "POST":
            try:
                data = validate_submission(defn, form)
                doc = action(actor, data, _uploads(uploaded_files(defn, form)))
                db.session.commit()
            except DuplicateDocumentError as exc:
                db.session.rollback()
                duplicate = exc.message
            except ValidationError as exc:
                db.session.rollback()
                elsewhere = attach_field_errors(form, exc.field_errors)
                flash(" ".join([exc.message, *elsewhere]), "danger")
            except DomainError as exc:
                db.session.rollback()
                log.warning("%s refused for user %s: %s", form_key, actor.user_id, exc.log)
                flash(exc.message, "danger")
            else:
                flash(f"Đã lưu: {doc.number_notation or doc.summary}.", "success")
                return redirect(url_for("DocumentView.show", document_id=doc.id))
        html = render_form(defn, form, action=request.path, submit_label=submit)
        return self.render_template("documents/form.html", title=title, form_html=html, duplicate=duplicate)

    @expose("/incoming/new", methods=["GET", "POST"])
    @has_access
    def register(self) -> Any:
        def action(actor: ActorRef, data: dict[str, Any], files: list[UploadInfo]) -> Any:
            received = data.pop("received_at", None)
            return ds.register_incoming(actor.agency_id, actor=actor, data=data, files=files,
                                        confirm_duplicate=bool(request.form.get("confirm_duplicate")),
                                        back_entry_received_at=_parse_date(received) if received else None)

        return self._form_page("incoming_register", "Vào sổ văn bản đến", "Vào sổ", action)

    @expose("/outgoing/new", methods=["GET", "POST"])
    @has_access
    def draft(self) -> Any:
        def action(actor: ActorRef, data: dict[str, Any], files: list[UploadInfo]) -> Any:
            return ds.create_outgoing_draft(actor.agency_id, actor=actor, data=data, files=files)

        return self._form_page("outgoing_draft", "Dự thảo văn bản đi", "Trình duyệt", action)

    # -- detail ------------------------------------------------------------------------------------------
    def _load(self, document_id: int) -> tuple[ActorRef, Any]:
        actor = current_actor()
        try:
            return actor, dq.get_document(actor.agency_id, document_id, actor)
        except NotFoundError:
            abort(404)

    @expose("/<int:document_id>")
    @has_access
    def show(self, document_id: int) -> Any:
        actor, doc = self._load(document_id)
        deps = {int(k): name for k, name in AgencyChoices(actor.agency_id).choices_for("departments", None, {})}
        tl = timeline_context(doc.instance_id, actor.agency_id) if doc.instance_id else {"timeline": [],
                                                                                           "done_forms": [],
                                                                                           "steps": []}
        diagram = None
        if doc.instance_id:
            state = wfq.instance_progress(doc.instance_id, with_xml=False)
            diagram = {"url": url_for("DocumentView.diagram", document_id=doc.id),
                       "done": sorted(state.done_ids), "active": sorted(state.active_ids)}
        steps = tl.pop("steps")
        my_tasks = sorted((t for t in steps if t.state == "open" and wf.can_act(t, actor)), key=lambda t: t.id)
        signer = staff_for_user(doc.signer_user_id) if doc.signer_user_id else None
        outgoing = doc.direction == "outgoing"
        sent = dq.deliveries_for(actor.agency_id, doc.id, actor) if outgoing else []
        revisions = dq.revisions_for(actor.agency_id, doc.id, actor) if outgoing else []
        _audit("document_viewed", actor, "document", doc.id)
        # Rendered before the commit, which would expire what the page still reads (the user, its staff row).
        page = self.render_template(
            "documents/show.html", doc=doc, deps=deps, urgency=URGENCY, channel=CHANNEL,
            status_text=status_label(doc.direction, doc.status),
            diagram=diagram, my_tasks=my_tasks, signer=signer, kinds=ATTACHMENT_KIND, deliveries=sent,
            revisions=revisions,
            can_render=outgoing and doc.status in ("draft", "in_review", "returned")
            and bool(actor.roles & {R.CLERK, R.LEADER, R.SPECIALIST, R.HEAD}),
            can_return=not outgoing and doc.status == "awaiting_registration" and doc.source_document_id is not None
            and R.CLERK in actor.roles,
            can_recall=outgoing and doc.status in ("issued", "delivered") and bool(actor.roles & {R.CLERK, R.LEADER}),
            **tl)
        db.session.commit()
        return page

    @expose("/<int:document_id>/diagram.bpmn")
    @has_access
    def diagram(self, document_id: int) -> Any:
        _, doc = self._load(document_id)
        if not doc.instance_id:
            abort(404)
        state = wfq.instance_progress(doc.instance_id)
        return Response(state.bpmn_xml, mimetype="application/xml")

    @expose("/files/<int:attachment_id>")
    @has_access
    def download(self, attachment_id: int) -> Any:
        actor = current_actor()
        try:
            info, stream = dq.attachment_stream(actor.agency_id, attachment_id, actor)
        except NotFoundError:
            abort(404)  # no such row, or not visible; a row whose blob is missing raises BlobMissingError (logged)

        def audited() -> None:
            log.info("download of attachment %s by user %s", attachment_id, actor.user_id)
            _audit("document_downloaded", actor, "attachment", attachment_id, filename=info.filename)
            db.session.commit()

        return send_blob(stream, filename=info.filename, content_type=info.content_type, on_send=audited)

    def _act(self, document_id: int, fn: Any, done: str) -> Any:
        actor, doc = self._load(document_id)
        try:
            fn(actor, doc)
            db.session.commit()
            flash(done, "success")
        except (DomainError, ConflictError) as exc:
            db.session.rollback()
            log.warning("action on document %s refused for user %s: %s", document_id, actor.user_id, exc.log)
            flash(exc.message, "danger")
        return redirect(url_for("DocumentView.show", document_id=document_id))

    @expose("/<int:document_id>/render", methods=["POST"])
    @has_access
    def render(self, document_id: int) -> Any:
        return self._act(document_id, lambda actor, doc: dsig.render_outgoing_pdf(actor.agency_id, doc.id,
                                                                                  actor=actor),
                         "Đã dựng bản PDF theo thể thức Nghị định 30.")

    @expose("/<int:document_id>/preview.pdf")
    @has_access
    def preview(self, document_id: int) -> Any:
        actor = current_actor()
        try:
            name, pdf = dsig.preview_pdf(actor.agency_id, document_id, actor)
        except NotFoundError:
            abort(404)
        except DomainError as exc:
            flash(exc.message, "warning")
            return redirect(url_for("DocumentView.show", document_id=document_id))
        resp = Response(pdf, mimetype="application/pdf")
        # Our own rendering (no script, no form): shown in the browser's viewer, not downloaded.
        resp.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{_quote(name)}"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @expose("/<int:document_id>/return", methods=["POST"])
    @has_access
    def return_to_sender(self, document_id: int) -> Any:
        def action(actor: ActorRef, doc: Any) -> None:
            withdrawal.return_received(doc.id, actor=actor, reason=request.form.get("reason"))

        return self._act(document_id, action, "Đã trả lại văn bản cho nơi gửi; nơi gửi đã được thông báo.")

    @expose("/<int:document_id>/recall", methods=["POST"])
    @has_access
    def recall(self, document_id: int) -> Any:
        def action(actor: ActorRef, doc: Any) -> None:
            withdrawal.recall_outgoing(doc.id, actor=actor, reason=request.form.get("reason"))

        return self._act(document_id, action, "Đã thu hồi văn bản; bản đã gửi tại các nơi nhận đã bị rút lại.")

    # -- registers ---------------------------------------------------------------------------------------
    @expose("/registers/")
    @has_access
    def registers(self) -> Any:
        actor = current_actor()
        kind = request.args.get("kind")
        year = request.args.get("year", type=int) or clock.today().year
        if kind:
            if kind not in REGISTER_KINDS:
                abort(404)
            pdf = dq.register_pdf(actor.agency_id, year, kind)
            log.info("register %s/%s printed by user %s", kind, year, actor.user_id)
            _audit("register_exported", actor, "register", year, register=kind)
            db.session.commit()
            resp = Response(pdf, mimetype="application/pdf")
            resp.headers["Content-Disposition"] = f"inline; filename={kind}-{year}.pdf"
            return resp
        return self.render_template("documents/registers.html", kinds=REGISTER_KINDS, year=year)


def _parse_date(value: Any) -> Any:
    """The true receipt time of a back-entered document: a date, or a date and time (Vietnam time)."""
    if isinstance(value, dt.date):
        return value
    text = str(value)
    if len(text) > 10:
        moment = dt.datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=clock.VN_TZ)
    return dt.date.fromisoformat(text)


def _quote(name: str) -> str:
    return quote(name, safe="")


_STAFF = ("can_incoming", "can_outgoing", "can_show", "can_diagram", "can_download", "can_draft", "can_render",
          "can_preview")
register_common_grants("DocumentView", _STAFF)
register_grants(R.CLERK, "DocumentView", (*_STAFF, "can_register", "can_registers", "can_return_to_sender",
                                          "can_recall"))
register_grants(R.LEADER, "DocumentView", (*_STAFF, "can_registers", "can_recall"))
for _menu in ("Văn bản đến", "Văn bản đi"):
    register_common_grants(_menu, ("menu_access",))
register_grants(R.CLERK, "Sổ văn bản", ("menu_access",))
register_grants(R.LEADER, "Sổ văn bản", ("menu_access",))


def register(appbuilder: Any) -> None:
    EXTRA_SOURCES["document_types"] = _document_types
    subjects.DESCRIBERS["incoming"] = _describe
    subjects.DESCRIBERS["outgoing"] = _describe
    appbuilder.add_view(DocumentView, "Văn bản đến", href="/documents/incoming/", category="Văn bản",
                        icon="fa-download")
    appbuilder.add_link("Văn bản đi", href="/documents/outgoing/", category="Văn bản", icon="fa-upload")
    appbuilder.add_link("Sổ văn bản", href="/documents/registers/", category="Văn bản", icon="fa-book")
