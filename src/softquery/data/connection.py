"""One connection to a data source, reading query results as Arrow: the base class
of every backend's reader (``softquery.data.backends.open_source`` picks one).
Every database error becomes a ``QueryError`` that names the query.

Queries cannot write: each one is checked to be a single reading statement
(``softquery.data.readonly``) and runs on a read-only connection or
transaction, with a statement timeout of ``timeout`` seconds (None: none).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

import pyarrow as pa

from softquery.data.query_errors import clean_message, clean_sql, driver_error_types, translated
from softquery.data.readonly import check_read_only, is_write_refusal, timeout_error, write_refused
from softquery.data.source_urls import mask_url
from softquery.errors import QueryError, SoftqueryError, SourceError

DEFAULT_CHUNK_ROWS = 100_000
DEFAULT_STATEMENT_TIMEOUT_SECONDS = 1800.0

CONNECT_HINTS = {
    "sqlite": "Check that the file exists and is readable by the softquery server.",
    "duckdb": "Check that the file exists and that no other process holds it open for writing.",
    "postgresql": "Check host, port, database name, user and password, and that the server "
    "accepts connections from this machine.",
}


class SourceConnection(ABC):
    """A context manager over one open connection; see the module doc."""

    dialect: str
    table_chunk_rows = DEFAULT_CHUNK_ROWS  # batches of read_batches that add up to read_table's result

    def __init__(self, url: str, timeout: float | None = DEFAULT_STATEMENT_TIMEOUT_SECONDS) -> None:
        self.url = url
        self.timeout = timeout
        self._timed_out = False  # set by a backend that interrupted the running statement

    # -- lifecycle -----------------------------------------------------------------
    def __enter__(self) -> SourceConnection:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None: ...

    def interrupt(self) -> None:
        """Ask a statement running in another thread to stop (best effort; a no-op where
        the backend cannot: SQLite through ADBC, the SQLAlchemy fallback)."""
        return None

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
            blocked = self._blocked(None)
            if blocked is not None:
                raise blocked from exc
            message = exc.message if isinstance(exc, SoftqueryError) else clean_message(exc, self.url)
            raise source_error(self.url, self.dialect, message) from exc

    def query_schema(self, sql: str, *, what: str) -> pa.Schema:
        """Column names and Arrow types of a query, without reading its rows."""
        sql = self._checked(sql, what)
        with self._translated(what, sql):
            self._preflight(sql, what, run=False)
            return self._schema(sql, what)

    def read_table(self, sql: str, *, what: str) -> pa.Table:
        sql = self._checked(sql, what)
        with self._translated(what, sql):
            self._preflight(sql, what, run=False)
            return self._table(sql, what)

    def read_batches(self, sql: str, *, what: str, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                     ) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        """Stream the result in batches of about ``chunk_rows`` rows."""
        if chunk_rows < 1:
            raise ValueError("chunk_rows must be positive")
        sql = self._checked(sql, what)
        with self._translated(what, sql):
            self._preflight(sql, what, run=False)
            schema, batches = self._batches(sql, what, chunk_rows)
        return schema, self._guarded(batches, what, sql)

    def preview(self, sql: str, *, what: str, limit: int = 100) -> pa.Table:
        sql = self._checked(sql, what)
        wrapped = f"select * from (\n{sql}\n) as _sq_preview limit {int(limit)}"  # noqa: S608
        with self._translated(what, sql):
            self._preflight(sql, what, run=False)  # the query itself, unwrapped: a clear refusal
            self._preflight(wrapped, what, run=True)
            return self._table(wrapped, what)

    # -- helpers -------------------------------------------------------------------
    def _blocked(self, what: str | None) -> SoftqueryError | None:
        """Backend hook, asked when a read was refused as a write: the reason the source
        cannot be read at all right now (None: the query itself was refused)."""
        return None

    def _preflight(self, sql: str, what: str, *, run: bool) -> None:
        """Backend hook run before a user query (``run``: a bounded preview may be executed)."""
        return None

    @staticmethod
    def _checked(sql: str, what: str) -> str:
        return check_read_only(clean_sql(sql), what)

    @contextmanager
    def _translated(self, what: str, sql: str) -> Iterator[None]:
        """Driver errors → ``QueryError``; write refusals and timeouts get their own message."""
        try:
            with translated(what=what, sql=sql, url=self.url, dialect=self.dialect):
                yield
        except QueryError as exc:
            message = str(exc.details.get("database_message", ""))
            state = exc.details.get("sqlstate")
            if exc.details.get("reason") in ("read_only", "statement_timeout") or "database_message" not in exc.details:
                raise
            if self.timeout is not None and (self._timed_out or "due to statement timeout" in message):
                raise timeout_error(what, sql, self.timeout) from exc
            if is_write_refusal(message, str(state) if state else None):
                if (blocked := self._blocked(what)) is not None:
                    raise blocked from exc
                raise write_refused(what, sql, "", database_message=message) from exc
            raise

    def _guarded(self, batches: Iterator[pa.RecordBatch], what: str, sql: str) -> Iterator[pa.RecordBatch]:
        with self._translated(what, sql):
            yield from batches


def source_error(url: str, dialect: str, message: str) -> SourceError:
    hint = CONNECT_HINTS.get(dialect, "Check the URL, the network and the credentials.")
    return SourceError(
        f"Cannot use the data source {mask_url(url)}: {message}. {hint}",
        details={"url": mask_url(url), "dialect": dialect, "database_message": message, "hint": hint},
    )
