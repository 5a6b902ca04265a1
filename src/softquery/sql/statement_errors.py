"""The error a statement gets: what is wrong, where (line, column, caret), what was meant."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from softquery.errors import InvalidInputError
from softquery.sql.positions import excerpt, locate, nearest


class SqlError(InvalidInputError):
    """A statement that cannot be parsed or names something unknown (code ``sql_error``).

    ``details`` holds ``line`` and ``column`` (1-based, in the whole script), ``excerpt``
    (the line with a caret) and, when a known name is close, ``suggestion``."""

    code = "sql_error"


def sql_error(message: str, script: str, offset: int, *, name: str | None = None,
              known: Iterable[str] = (), what: str = "name", extra: dict[str, Any] | None = None) -> SqlError:
    """An error at ``offset`` of ``script``; with ``name`` and ``known``, the nearest known name."""
    where = locate(script, offset)
    details: dict[str, Any] = {"line": where.line, "column": where.column, "excerpt": excerpt(script, offset)}
    known = list(known)
    if name is not None:
        suggestion = nearest(name, known)
        if suggestion is not None:
            details["suggestion"] = suggestion
            message = f"{message} Did you mean {what} {suggestion!r}?"
        elif known and len(known) <= 20:
            message = f"{message} Known: {', '.join(sorted(known))}."
    details.update(extra or {})
    return SqlError(f"Line {where.line}, column {where.column}: {message}", details=details)
