"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from softquery.errors import InvalidInputError

MIN_LENGTH = 10
_hasher = PasswordHasher()
# Verifying against this when the user does not exist costs the same time as a real check,
# so a login's timing does not tell whether a username exists.
_DUMMY = _hasher.hash("softquery-no-such-user")


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInputError(f"Choose a password of at least {MIN_LENGTH} characters.",
                                details={"field": "password"})
    if len(password) > 1024:
        raise InvalidInputError("Choose a password of at most 1024 characters.", details={"field": "password"})


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored`` (None or empty: the user has no password yet)."""
    try:
        # always one verification, so the time taken does not tell whether a password is set
        return _hasher.verify(stored or _DUMMY, password) and bool(stored)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)
