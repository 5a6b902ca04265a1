"""Validation of SQL identifiers that come from users."""

from __future__ import annotations

import re

from softquery.errors import InvalidInputError

IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def is_identifier(name: str) -> bool:
    return bool(IDENTIFIER_RE.fullmatch(name))


def check_identifier(name: str, what: str = "name") -> str:
    """Return ``name`` if it is a plain SQL identifier, else raise a clear error."""
    if not isinstance(name, str) or not is_identifier(name):
        raise InvalidInputError(
            f"{what} {name!r} is not allowed: use letters, digits and underscores, "
            "starting with a letter or underscore, at most 63 characters "
            "(for example: house_prices_2024).",
            details={"field": what, "value": str(name)},
        )
    return name
