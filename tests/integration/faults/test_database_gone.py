"""The database going away in the middle of a request: a clear Vietnamese 503 and nothing half-written."""

from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from app.accounts.models import PasswordHistory
from app.extensions import db


def test_database_lost_mid_password_change_gives_503_and_writes_nothing(make_agency, make_account, logged_in):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    c = logged_in(acc)
    before = db.session.get(User, acc.user_id).password
    seen: list[str] = []

    def connection_dies(conn, cursor, statement, params, context, executemany):
        # The change writes the password history first, then the user row: die between the two.
        seen.append(statement.split()[0])
        if statement.lstrip().upper().startswith("UPDATE AB_USER"):
            raise OperationalError(statement, params, Exception("server closed the connection unexpectedly"))

    event.listen(db.engine, "before_cursor_execute", connection_dies)
    try:
        new = "Mất-kết-nối-2026!"
        resp = c.form_post("/account/password", {"current": acc.password, "new": new, "confirm": new})
    finally:
        event.remove(db.engine, "before_cursor_execute", connection_dies)
    assert "INSERT" in seen  # the first write of the change did happen inside the transaction
    assert resp.status_code == 503
    body = resp.get_data(as_text=True)
    assert "Không kết nối được cơ sở dữ liệu" in body and "Thao tác chưa được ghi nhận" in body
    db.session.expire_all()
    assert db.session.get(User, acc.user_id).password == before
    assert db.session.scalar(select(PasswordHistory).where(PasswordHistory.user_id == acc.user_id)) is None
    # The system carries on once the database is back.
    assert c.get("/account/password").status_code == 200
