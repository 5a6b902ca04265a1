"""The range of the numbers people name stored things by: version numbers, token ids.

The metadata DB keeps them in INTEGER columns, and the narrowest of those is
PostgreSQL's int4. A larger number cannot name anything stored, and binding it
fails in the driver (SQLite overflows past int64; PostgreSQL answers "integer out
of range"): such a number is the user's mistake, refused before it reaches the DB.
Routes declare the same bounds on their path and query parameters.
"""

from __future__ import annotations

from softquery.errors import InvalidInputError

MAX_STORED_NUMBER = 2**31 - 1


def check_number(value: int, what: str, field: str) -> int:
    """``value`` when 1 ≤ value ≤ ``MAX_STORED_NUMBER``; else an ``InvalidInputError`` (422)."""
    if not 1 <= value <= MAX_STORED_NUMBER:
        raise InvalidInputError(f"{what} go from 1 to {MAX_STORED_NUMBER}; {value} is not one.",
                                details={field: value, "min": 1, "max": MAX_STORED_NUMBER})
    return value
