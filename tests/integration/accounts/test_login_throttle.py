"""Sign-in throttling through HTTP: a delay that doubles after the free attempts (never a hard lockout), unknown
names throttled and hashed like real ones, the owner's trusted browser untouched by guesses from elsewhere,
password spraying slowed per client address."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select

from app.accounts import hashing, throttle
from app.accounts.models import AuditEvent
from app.core import clock
from app.extensions import db


def _logged_in(resp) -> bool:
    return resp.status_code == 302 and "/login" not in resp.headers["Location"]


def _address() -> str:
    # Each test its own client address: the per-address counter of 127.0.0.1 is every other test's too.
    return f"127.{secrets.randbelow(200) + 20}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"


def _client(client_for, host: str, address: str):
    c = client_for(host)
    c.client.environ_base["REMOTE_ADDR"] = address
    return c


def test_after_five_wrong_passwords_each_attempt_waits_a_doubling_delay(make_agency, make_account, client_for,
                                                                        frozen_clock):
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    start = clock.now()
    frozen_clock(start)
    c = _client(client_for, acc.host, _address())
    for _ in range(5):
        assert not _logged_in(c.login(acc.email, "Sai-mat-khau-1"))
    # The sixth attempt, even with the right password, is not checked: 429 with the wait in Vietnamese.
    resp = c.login(acc.email, acc.password)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "2"
    assert "Vui lòng thử lại sau 2 giây" in resp.get_data(as_text=True)
    assert c.get("/inbox/").status_code == 302  # not logged in
    frozen_clock(start + dt.timedelta(seconds=2))
    assert c.login(acc.email, "Sai-mat-khau-2").status_code == 302  # checked, wrong
    resp = c.login(acc.email, acc.password)
    assert resp.status_code == 429 and "thử lại sau 4 giây" in resp.get_data(as_text=True)
    # Slowed, never locked: once the wait is over the owner's password works, and the count starts again.
    frozen_clock(start + dt.timedelta(seconds=6))
    assert _logged_in(c.login(acc.email, acc.password))
    assert throttle.attempts_of(acc.email) == 0
    reasons = [d["reason"] for d in db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.username == acc.email, AuditEvent.kind == "login_failed"))]
    assert reasons.count("bad_password") == 6 and reasons.count("throttled") == 2


def test_the_delay_has_a_ceiling_and_an_idle_counter_is_forgotten(make_agency, make_account, client_for,
                                                                  frozen_clock, app, monkeypatch):
    monkeypatch.setitem(app.config, "QLVB_LOGIN_MAX_DELAY_SECONDS", 10)
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    at = clock.now()
    c = _client(client_for, acc.host, _address())
    for _ in range(8):  # the eighth failure would call for 16 s
        frozen_clock(at)
        assert c.login(acc.email, "Sai-mat-khau-1").status_code == 302
        at += dt.timedelta(seconds=11)
    frozen_clock(at - dt.timedelta(seconds=11))
    resp = c.login(acc.email, acc.password)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "10"
    frozen_clock(at + dt.timedelta(hours=25))
    assert throttle.attempts_of(acc.email) == 8
    assert _logged_in(c.login(acc.email, acc.password))


def test_an_unknown_name_is_throttled_and_hashed_like_a_real_account(make_agency, client_for, monkeypatch,
                                                                     frozen_clock):
    frozen_clock(clock.now())
    a = make_agency()
    calls: list[str] = []
    real = hashing.dummy_verify
    monkeypatch.setattr("app.admin.security.dummy_verify", lambda pw: (calls.append(pw), real(pw)))
    c = _client(client_for, f"{a.code}.localhost", _address())
    ghost = f"khong-co-{secrets.token_hex(3)}@{a.code}.test.vn"
    answers = [c.login(ghost, f"Sai-{i}").status_code for i in range(7)]
    assert answers == [302] * 5 + [429] * 2
    # Each checked attempt spent an argon2 verification, as a real account's does.
    assert calls == [f"Sai-{i}" for i in range(5)]
    assert throttle.attempts_of(ghost) == 5


def test_guesses_from_elsewhere_never_slow_the_owner_on_a_browser_they_used(make_agency, make_account,
                                                                           client_for, frozen_clock):
    frozen_clock(clock.now())
    a = make_agency()
    acc = make_account(a.code, ["clerk"])
    office = _client(client_for, acc.host, _address())
    assert _logged_in(office.login(acc.email, acc.password))
    assert office.client.get_cookie("qlvb_device", domain=acc.host) is not None
    office.logout()
    attacker = _client(client_for, acc.host, _address())
    answers = [attacker.login(acc.email, f"Doan-{i}").status_code for i in range(8)]
    assert answers[-1] == 429
    assert attacker.login(acc.email, acc.password).status_code == 429
    # The owner's office computer carries the trusted-device cookie of this account: not delayed.
    assert _logged_in(office.login(acc.email, acc.password))
    # The device cookie of another account, or a tampered one, trusts nothing.
    other = make_account(a.code, ["clerk"])
    colleague = _client(client_for, other.host, _address())
    assert _logged_in(colleague.login(other.email, other.password))
    colleague.logout()
    assert colleague.login(acc.email, acc.password).status_code == 429
    mine = office.client.get_cookie("qlvb_device", domain=acc.host).value
    forged = _client(client_for, acc.host, _address())
    forged.client.set_cookie("qlvb_device", mine[:-6] + "AAAAAA", domain=acc.host)
    assert forged.login(acc.email, acc.password).status_code == 429


def test_password_spraying_from_one_address_is_slowed(make_agency, make_account, client_for, app, monkeypatch,
                                                     frozen_clock):
    frozen_clock(clock.now())
    monkeypatch.setitem(app.config, "QLVB_LOGIN_ADDRESS_MAX_FAILURES", 4)
    a = make_agency()
    victims = [make_account(a.code, ["clerk"]) for _ in range(5)]
    address = _address()
    c = _client(client_for, victims[0].host, address)
    answers = [c.login(v.email, "Mua-xuan-2026!").status_code for v in victims]
    assert answers == [302] * 4 + [429]
    # The same accounts from another address are not slowed (one account, one wrong password each).
    assert _logged_in(_client(client_for, victims[4].host, _address()).login(victims[4].email, victims[4].password))
