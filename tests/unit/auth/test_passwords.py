"""Password hashing: argon2id, right/wrong, no password never verifies, strength, rehash."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from softquery.auth import passwords
from softquery.errors import InvalidInputError

GOOD = "correct horse battery staple"


def test_hashes_are_argon2id_and_salted() -> None:
    first, second = passwords.hash_password(GOOD), passwords.hash_password(GOOD)
    assert first.startswith("$argon2id$")
    assert first != second  # a fresh salt each time
    assert GOOD not in first


def test_right_password_verifies_and_wrong_ones_do_not() -> None:
    stored = passwords.hash_password(GOOD)
    assert passwords.verify_password(stored, GOOD)
    for wrong in ("", GOOD.upper(), GOOD + " ", GOOD[:-1], "x" * 2000):
        assert not passwords.verify_password(stored, wrong)


@pytest.mark.parametrize("attempt", ["", GOOD, "softquery-no-such-user"])
def test_a_user_without_a_password_never_logs_in(attempt: str) -> None:
    # "softquery-no-such-user" is the dummy hash's own password: still no
    assert not passwords.verify_password(None, attempt)
    assert not passwords.verify_password("", attempt)


@pytest.mark.parametrize("stored", ["not a hash", "$argon2id$v=19$broken", "$2b$12$" + "a" * 53])
def test_a_broken_or_foreign_stored_hash_does_not_verify(stored: str) -> None:
    assert not passwords.verify_password(stored, GOOD)


@pytest.mark.parametrize("short", ["", "a", "x" * (passwords.MIN_LENGTH - 1)])
def test_short_passwords_are_refused_with_the_minimum_length(short: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        passwords.hash_password(short)
    assert f"at least {passwords.MIN_LENGTH} characters" in err.value.message
    assert err.value.details == {"field": "password"}


def test_length_limits() -> None:
    assert passwords.verify_password(passwords.hash_password("x" * passwords.MIN_LENGTH), "x" * passwords.MIN_LENGTH)
    passwords.hash_password("y" * 1024)
    with pytest.raises(InvalidInputError, match="at most 1024"):
        passwords.hash_password("y" * 1025)


def test_unicode_passwords() -> None:
    stored = passwords.hash_password("pässwörd-ünïcødé-🔑")
    assert passwords.verify_password(stored, "pässwörd-ünïcødé-🔑")
    assert not passwords.verify_password(stored, "passwort-unicode-🔑")


def test_hashes_made_with_weaker_parameters_need_a_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(GOOD)
    assert passwords.verify_password(weak, GOOD)  # still logs in...
    assert passwords.needs_rehash(weak)  # ...and is upgraded on that login
    assert not passwords.needs_rehash(passwords.hash_password(GOOD))
