"""One connection to a data source, reading query results as Arrow.

``open_source(url)`` picks the fastest reader per backend: ADBC for SQLite and
PostgreSQL, the duckdb module for DuckDB, SQLAlchemy + pandas for the rest.
Every database error becomes a ``QueryError`` that names the query.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from types import TracebackType

import pyarrow as pa

from softquery.data.query_errors import clean_message, clean_sql, driver_error_types, translated
from softquery.data.sources import dialect_of, mask_url
from softquery.errors import SoftqueryError, SourceError

DEFAULT_CHUNK_ROWS = 100_000

CONNECT_HINTS = {
    "sqlite": "Check that the file exists and is readable by the softquery server.",
    "duckdb": "Check that the file exists and that no other process holds it open for writing.",
    "postgresql": "Check host, port, database name, user and password, and that the server "
    "accepts connections from this machine.",
}


class SourceConnection(ABC):
    """A context manager over one open connection; see the module doc."""

    dialect: str

    def __init__(self, url: str) -> None:
        self.url = url

    # -- lifecycle -----------------------------------------------------------------
    def __enter__(self) -> SourceConnection:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None: ...

    # -- backend hooks -------------------------------------------------------------
    @abstractmethod
    def _schema(self, sql: str, what: str) -> pa.Schema: ...

    @abstractmethod
    def _table(self, sql: str, what: str) -> pa.Table: ...

    @abstractmethod
    def _batches(self, sql: str, what: str, chunk_rows: int) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]: ...

    # -- public API ----------------------------------------------------------------
    def test(self) -> None:
        """Run ``select 1``; a failure is a ``SourceError`` with the driver's message."""
        errors: tuple[type[BaseException], ...] = (SoftqueryError, *driver_error_types())
        try:
            self._table("select 1 as ok", "connection test")
        except errors as exc:
            message = exc.message if isinstance(exc, SoftqueryError) else clean_message(exc, self.url)
            raise source_error(self.url, self.dialect, message) from exc

    def query_schema(self, sql: str, *, what: str) -> pa.Schema:
        """Column names and Arrow types of a query, without reading its rows."""
        sql = clean_sql(sql)
        with self._translated(what, sql):
            return self._schema(sql, what)

    def read_table(self, sql: str, *, what: str) -> pa.Table:
        sql = clean_sql(sql)
        with self._translated(what, sql):
            return self._table(sql, what)

    def read_batches(self, sql: str, *, what: str, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                     ) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        """Stream the result in batches of about ``chunk_rows`` rows."""
        if chunk_rows < 1:
            raise ValueError("chunk_rows must be positive")
        sql = clean_sql(sql)
        with self._translated(what, sql):
            schema, batches = self._batches(sql, what, chunk_rows)
        return schema, self._guarded(batches, what, sql)

    def preview(self, sql: str, *, what: str, limit: int = 100) -> pa.Table:
        sql = clean_sql(sql)
        wrapped = f"select * from (\n{sql}\n) as _sq_preview limit {int(limit)}"  # noqa: S608
        with self._translated(what, sql):
            return self._table(wrapped, what)

    # -- helpers -------------------------------------------------------------------
    def _translated(self, what: str, sql: str) -> AbstractContextManager[None]:
        return translated(what=what, sql=sql, url=self.url, dialect=self.dialect)

    def _guarded(self, batches: Iterator[pa.RecordBatch], what: str, sql: str) -> Iterator[pa.RecordBatch]:
        with self._translated(what, sql):
            yield from batches


def source_error(url: str, dialect: str, message: str) -> SourceError:
    hint = CONNECT_HINTS.get(dialect, "Check the URL, the network and the credentials.")
    return SourceError(
        f"Cannot use the data source {mask_url(url)}: {message}. {hint}",
        details={"url": mask_url(url), "dialect": dialect, "database_message": message, "hint": hint},
    )


def open_source(url: str) -> SourceConnection:
    """Open a connection to the data source at ``url`` (SourceError when impossible)."""
    dialect = dialect_of(url)
    from softquery.data import native

    errors: tuple[type[BaseException], ...] = (*driver_error_types(), ImportError)
    try:
        if dialect == "sqlite":
            return native.SqliteSource(url)
        if dialect == "postgresql":
            return native.PostgresSource(url)
        if dialect == "duckdb":
            return native.DuckdbSource(url)
        from softquery.data.sqlalchemy_source import SqlAlchemySource

        return SqlAlchemySource(url, dialect)
    except SoftqueryError:
        raise
    except errors as exc:
        raise source_error(url, dialect, clean_message(exc, url)) from exc
