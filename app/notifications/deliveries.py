"""What happens to an issued document at its recipients, told to the people who sent it (Art 21.2 Decree 30).

The drafter, the signer and the issuing agency's clerks hear that a recipient registered, finished,
or returned the document; the recipients' clerks, and anyone with a step on the copy, hear of a recall.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.documents.deliveries import label
from app.documents.models import Delivery, Document
from app.extensions import db
from app.tenancy.models import Agency
from app.workflow.models import HumanTask

from . import services
from .tasks import recipients

# Statuses the sender is told about; "arrived" and "processing" would only be noise in the inbox.
_TOLD = {"registered", "done", "returned"}


def _document_link(document_id: int) -> str:
    return f"/documents/{document_id}"


def _senders(doc: Document) -> list[int]:
    clerks = recipients(doc.agency_id, candidate_user_id=None, candidate_role="clerk", candidate_department_id=None)
    return [u for u in (doc.created_by_id, doc.signer_user_id, *clerks) if u is not None]


def _title(doc: Document) -> str:
    return doc.number_notation or doc.summary[:80]


def on_delivery_status_changed(sender: Any, document_id: int | None = None, delivery_id: int | None = None,
                               status: str | None = None, **_: Any) -> None:
    if status not in _TOLD or status == "returned" or document_id is None:
        return  # a return is told with its reason by on_document_returned
    doc, row = db.session.get(Document, document_id), db.session.get(Delivery, delivery_id)
    if doc is None or row is None:
        return
    services.notify(_senders(doc), agency_id=doc.agency_id, kind="delivery_status",
                    title=f"{row.recipient_name}: {label(status).lower()} văn bản {_title(doc)}",
                    body=f"{doc.summary}\nTình trạng tại {row.recipient_name}: {label(status)}.",
                    link=_document_link(doc.id), dedupe_key=f"delivery:{row.id}:{status}")


def on_document_returned(sender: Any, document_id: int | None = None, incoming_document_id: int | None = None,
                         agency_id: int | None = None, reason: str | None = None, delivery_id: int | None = None,
                         **_: Any) -> None:
    doc = db.session.get(Document, document_id) if document_id is not None else None
    if doc is None:
        return
    if delivery_id is not None:  # the recipient may be outside this deployment: no copy id here
        row = db.session.get(Delivery, delivery_id)
    else:
        row = db.session.scalar(select(Delivery).where(Delivery.incoming_document_id == incoming_document_id))
    where = row.recipient_name if row is not None else "Nơi nhận"
    key = f"returned:{incoming_document_id}" if incoming_document_id is not None else f"returned:d{delivery_id}"
    services.notify(_senders(doc), agency_id=doc.agency_id, kind="document_returned", urgent=True,
                    title=f"{where} trả lại văn bản {_title(doc)}",
                    body=f"{doc.summary}\nLý do trả lại: {reason or '(không nêu)'}",
                    link=_document_link(doc.id), dedupe_key=key)


def on_document_recalled(sender: Any, document_id: int | None = None, reason: str | None = None,
                         withdrawn: list[tuple[int, int]] | None = None, **_: Any) -> None:
    source = db.session.get(Document, document_id) if document_id is not None else None
    for agency_id, copy_id in withdrawn or ():
        # The issuer may be outside this deployment: the copy still says who issued what.
        doc = source or db.session.get(Document, copy_id)
        if doc is None:
            continue
        issuer = (db.session.scalar(select(Agency.name).where(Agency.id == source.agency_id)) if source is not None
                  else doc.issuer_name) or "Nơi gửi"
        users = set(recipients(agency_id, candidate_user_id=None, candidate_role="clerk", candidate_department_id=None))
        users.update(u for u in db.session.scalars(
            select(HumanTask.completed_by_id).where(HumanTask.subject_type == "incoming",
                                                    HumanTask.subject_id == copy_id,
                                                    HumanTask.agency_id == agency_id)) if u is not None)
        services.notify(users, agency_id=agency_id, kind="document_recalled", urgent=True,
                        title=f"{issuer} thu hồi văn bản {_title(doc)}",
                        body=f"{doc.summary}\nLý do thu hồi: {reason or '(không nêu)'}\n"
                             "Bản đã nhận được rút khỏi sổ và các bước đang xử lý đã dừng.",
                        link=_document_link(copy_id), dedupe_key=f"recalled:{copy_id}")
