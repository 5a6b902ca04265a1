"""Which reader serves a data source: ``open_source(url)`` picks the fastest one per
backend: ADBC for SQLite and PostgreSQL, the duckdb module for DuckDB, SQLAlchemy +
pandas for the rest (``softquery.data.native``, ``softquery.data.sqlalchemy_source``,
both built on ``softquery.data.connection.SourceConnection``).
"""

from __future__ import annotations

from softquery.data.connection import (
    DEFAULT_STATEMENT_TIMEOUT_SECONDS,
    SourceConnection,
    source_error,
)
from softquery.data.query_errors import clean_message, driver_error_types
from softquery.data.source_urls import dialect_of
from softquery.errors import SoftqueryError


def open_source(url: str, *, timeout: float | None = DEFAULT_STATEMENT_TIMEOUT_SECONDS) -> SourceConnection:
    """Open a read-only connection to the data source at ``url`` (SourceError when impossible).

    ``timeout``: statement time limit in seconds of every query (None: no limit).
    """
    dialect = dialect_of(url)
    from softquery.data import native

    errors: tuple[type[BaseException], ...] = (*driver_error_types(), ImportError)
    try:
        if dialect == "sqlite":
            return native.SqliteSource(url, timeout)
        if dialect == "postgresql":
            return native.PostgresSource(url, timeout)
        if dialect == "duckdb":
            return native.DuckdbSource(url, timeout)
        from softquery.data.sqlalchemy_source import SqlAlchemySource

        return SqlAlchemySource(url, dialect, timeout)
    except SoftqueryError:
        raise
    except errors as exc:
        raise source_error(url, dialect, clean_message(exc, url)) from exc
