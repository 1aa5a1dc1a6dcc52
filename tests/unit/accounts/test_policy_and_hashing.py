"""Password policy and hashing, without a database."""

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.security import generate_password_hash

from app.accounts.hashing import hash_password, verify_password
from app.accounts.policy import PasswordPolicy, password_problems

POLICY = PasswordPolicy()


def test_a_strong_password_passes():
    assert password_problems("Gió-mùa-Đông-2026", POLICY, email="nva@isotttt.vn", full_name="Nguyễn Văn An") == []


def test_each_rule_has_a_vietnamese_message():
    assert any("ít nhất 10 ký tự" in p for p in password_problems("Ab1!", POLICY))
    assert any("kết hợp ít nhất 3" in p for p in password_problems("abcdefghijkl", POLICY))
    assert any("tên tài khoản" in p for p in password_problems("Xnguyenvana2026!", POLICY, email="nguyenvana@x.vn"))
    assert any("họ tên" in p for p in password_problems("Huong#2026abc", POLICY, full_name="Lê Thị Hương"))
    assert any("dấu cách" in p for p in password_problems(" Gió-mùa-2026 ", POLICY))


def test_policy_reads_config_keys():
    p = PasswordPolicy.from_config({"QLVB_PASSWORD_MIN_LENGTH": "14", "QLVB_PASSWORD_HISTORY": 8,
                                    "QLVB_PASSWORD_MAX_FAILURES": 3})
    assert (p.min_length, p.history, p.max_failures, p.max_age_days) == (14, 8, 3, 90)


def test_argon2_for_new_hashes_and_nfd_nfc_alike():
    h = hash_password("Mật-khẩu-2026")
    assert h.startswith("$argon2id$")
    assert verify_password(h, unicodedata.normalize("NFD", "Mật-khẩu-2026")) == (True, False)
    assert verify_password(h, "mật-khẩu-2026") == (False, False)


def test_werkzeug_hashes_still_verify_and_ask_for_rehash():
    old = generate_password_hash("Cu@password-2020")
    assert verify_password(old, "Cu@password-2020") == (True, True)
    assert verify_password(old, "sai") == (False, False)
    assert verify_password(None, "x") == (False, False)
    assert verify_password("garbage", "x") == (False, False)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_policy_never_crashes_and_short_is_always_refused(pw):
    problems = password_problems(pw, POLICY, email="a@b.vn", full_name="Trần Văn Bình")
    if len(unicodedata.normalize("NFC", pw)) < POLICY.min_length:
        assert problems
