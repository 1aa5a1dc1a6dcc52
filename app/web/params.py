"""Query parameters that cannot be numbers the database holds are refused at the door (400), never a 500.

Pages read ids, years and pages with ``request.args.get(..., type=int)``: a value past 64 bits then reached
SQLite (OverflowError) or PostgreSQL (out of range). Rather than trust every page to bound its numbers, any
parameter that is all digits must fit a signed 64-bit integer, and Flask-AppBuilder's paging parameters must
be small numbers (FAB calls ``int()`` on them unguarded). Free text (the search box) is left alone.
"""

from __future__ import annotations

import logging
import re

from flask import Flask, abort, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest

from app.extensions import db

from .errors import page

log = logging.getLogger("qlvb.params")

INT64_MAX = 2**63 - 1
_DIGITS = re.compile(r"[+-]?\d+")
# FAB's list views: page_<View>, psize_<View> (numbers), _oc_<View> (a column), _od_<View> (asc/desc).
_FAB_NUMERIC = re.compile(r"(page|psize)_\w+")
_FREE_TEXT_NAMES = {"q"}
_FREE_TEXT_ENDPOINTS = {"SearchView.index"}


def _refuse(name: str, reason: str) -> None:
    log.warning("refused %s %s: parameter %r %s", request.method, request.path, name[:60], reason)
    abort(400, description=f"Tham số “{name[:60]}” không hợp lệ: {reason}.")


def check_query_numbers() -> None:
    if request.endpoint in _FREE_TEXT_ENDPOINTS:
        return
    for name, value in request.args.items(multi=True):
        if name in _FREE_TEXT_NAMES:
            continue
        text = value.strip()
        if _FAB_NUMERIC.fullmatch(name) and not (text.isascii() and text.isdigit() and len(text) <= 6):
            _refuse(name, "cần một số nguyên dương nhỏ")
        if _DIGITS.fullmatch(text) and (len(text) > 20 or abs(int(text)) > INT64_MAX):
            _refuse(name, "số quá lớn")


def install(app: Flask) -> None:
    app.before_request(check_query_numbers)

    @app.errorhandler(BadRequest)
    def bad_request(exc: BadRequest):  # type: ignore[no-untyped-def]
        # CSRFError (a BadRequest) keeps its own, more specific handler in app.web.errors.
        message = exc.description if (exc.description or "").startswith("Tham số") else \
            "Yêu cầu không hợp lệ (tham số sai hoặc thiếu). Không có dữ liệu nào bị thay đổi."
        return page(400, "Yêu cầu không hợp lệ", message)

    @app.errorhandler(OverflowError)
    def overflow(exc: OverflowError):  # type: ignore[no-untyped-def]
        # A number that slipped past the check above (a form field, say): the same refusal, not a 500.
        db.session.rollback()
        log.warning("number out of range on %s %s: %s", request.method, request.path, exc)
        return page(400, "Dữ liệu không hợp lệ",
                    "Một giá trị số vượt quá giới hạn cho phép. Không có dữ liệu nào bị thay đổi.")

    @app.errorhandler(DataError)
    def data_error(exc: DataError):  # type: ignore[no-untyped-def]
        db.session.rollback()
        log.warning("value refused by the database on %s %s: %s", request.method, request.path, exc.orig)
        return page(400, "Dữ liệu không hợp lệ",
                    "Một giá trị vượt quá giới hạn cho phép. Không có dữ liệu nào bị thay đổi.")
