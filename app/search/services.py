"""Saved searches: the only state the search domain owns."""

from __future__ import annotations

from sqlalchemy import func, select

from app.core.text import nfc
from app.extensions import db
from app.workflow.info import ActorRef

from .criteria import SearchCriteria
from .errors import SavedSearchNotFoundError, SearchQueryError
from .models import SavedSearch
from .queries import SavedSearchInfo

MAX_SAVED = 50


def save_search(actor: ActorRef, name: str, criteria: SearchCriteria) -> SavedSearchInfo:
    """Save (or overwrite, by name) the actor's criteria for later."""
    name = " ".join(nfc(name or "").split())
    if not name:
        raise SearchQueryError("Hãy đặt tên cho điều kiện tìm kiếm cần lưu.", field_errors={"name": ["Bắt buộc."]})
    if len(name) > 120:
        raise SearchQueryError("Tên điều kiện tìm kiếm tối đa 120 ký tự.", field_errors={"name": ["Quá dài."]})
    params = criteria.to_params()
    if not params:
        raise SearchQueryError("Chưa có từ khóa hay điều kiện lọc nào để lưu.")
    row = db.session.scalar(select(SavedSearch).where(
        SavedSearch.user_id == actor.user_id, SavedSearch.agency_id == actor.agency_id, SavedSearch.name == name))
    if row is None:
        count = db.session.scalar(select(func.count()).select_from(SavedSearch).where(
            SavedSearch.user_id == actor.user_id, SavedSearch.agency_id == actor.agency_id)) or 0
        if count >= MAX_SAVED:
            raise SearchQueryError(f"Mỗi người lưu được tối đa {MAX_SAVED} điều kiện tìm kiếm; hãy xóa bớt.")
        row = SavedSearch(user_id=actor.user_id, agency_id=actor.agency_id, name=name, params=params)
        db.session.add(row)
    else:
        row.params = params
    db.session.flush()
    return SavedSearchInfo(row.id, row.name, dict(row.params), row.created_at)


def delete_saved_search(actor: ActorRef, saved_id: int) -> None:
    """Delete one of the actor's own saved searches (someone else's is "not found", never "forbidden")."""
    row = db.session.get(SavedSearch, saved_id)
    if row is None or row.user_id != actor.user_id or row.agency_id != actor.agency_id:
        raise SavedSearchNotFoundError("Không tìm thấy điều kiện tìm kiếm đã lưu.")
    db.session.delete(row)
    db.session.flush()
