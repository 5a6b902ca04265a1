"""Turn database driver errors into errors an analyst can act on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from softquery.data.source_urls import scrub_password
from softquery.errors import QueryError, SoftqueryError

_PREFIXES = re.compile(
    r"^(?:(?:[A-Z_]+: )|(?:\[[A-Za-z]+\] )|(?:Failed to (?:prepare|execute|step) query: )"
    r"|(?:ERROR:\s+)|(?:IO: ))+"
)
_ECHO = re.compile(r"^(?:query: |Query was: )", re.IGNORECASE)


def driver_error_types() -> tuple[type[BaseException], ...]:
    """Exception classes raised by the drivers we use (not our own errors)."""
    import adbc_driver_manager
    import duckdb
    import sqlalchemy.exc

    return (
        adbc_driver_manager.Error,
        duckdb.Error,
        sqlalchemy.exc.SQLAlchemyError,
        pa.ArrowException,
        OSError,
    )


def clean_message(exc: BaseException, url: str = "") -> str:
    """The database's own message, without driver prefixes or the echoed SQL."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    lines = text.splitlines()
    # the driver's echo of the SQL ends the message; a multi-line query echoes several lines
    echo = next((i for i, line in enumerate(lines) if _ECHO.match(line.strip())), len(lines))
    text = "\n".join(lines[:echo]).strip()
    text = re.sub(r"\s*(?:\. )?SQLSTATE: [0-9A-Z]{5}\s*$", "", text)
    text = _PREFIXES.sub("", text).strip()
    text = re.sub(r"\n\s*\n", "\n", text)
    return scrub_password(text, url) if url else text


def sqlstate_of(exc: BaseException) -> str | None:
    state = getattr(exc, "sqlstate", None)
    if state:
        return str(state)
    match = re.search(r"SQLSTATE: ([0-9A-Z]{5})", str(exc))
    return match.group(1) if match else None


def query_error(exc: BaseException, *, what: str, sql: str, url: str, dialect: str) -> QueryError:
    message = clean_message(exc, url)
    details: dict[str, Any] = {"query": what, "sql": sql, "dialect": dialect, "database_message": message}
    state = sqlstate_of(exc)
    if state:
        details["sqlstate"] = state
    return QueryError(f"The {what} failed: {message}", details=details)


@contextmanager
def translated(*, what: str, sql: str, url: str, dialect: str) -> Iterator[None]:
    """Re-raise driver errors as ``QueryError`` naming the query; ours pass through."""
    try:
        yield
    except SoftqueryError:
        raise
    except driver_error_types() as exc:
        raise query_error(exc, what=what, sql=sql, url=url, dialect=dialect) from exc


def clean_sql(sql: str) -> str:
    """Strip whitespace and trailing semicolons so the query can be wrapped."""
    text = sql.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    if not text:
        raise QueryError("The query is empty: write a SELECT statement.", details={"sql": sql})
    return text
