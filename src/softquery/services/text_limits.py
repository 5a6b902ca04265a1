"""The longest text a user may store in each field (a model's code, queries, description ...).

Every stored text is shown again, to every viewer of a list or a page: one field of
150 MB would be sent to all of them. CLI, API and web share these limits (the request
body limit, ``SOFTQUERY_MAX_BODY_BYTES``, comes first over HTTP).
"""

from __future__ import annotations

from softquery.errors import InvalidInputError

# field -> (what people call it, most characters)
MAX_CHARS: dict[str, tuple[str, int]] = {
    "description": ("description", 10_000),
    "code": ("model code", 200_000),
    "train_sql": ("train query", 100_000),
    "predict_sql": ("predict query", 100_000),
    "schedule": ("schedule", 100),
    "url": ("source URL", 4_000),
}


def check_length(name: str, value: str) -> str:
    """``value`` if it is at most the limit of field ``name``; else a 422 naming both."""
    what, most = MAX_CHARS[name]
    if len(value) > most:
        raise InvalidInputError(
            f"The {what} is {len(value):,} characters long; at most {most:,} are allowed. Shorten it.",
            details={"field": name, "chars": len(value), "max_chars": most})
    return value
