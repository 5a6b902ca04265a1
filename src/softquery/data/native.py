"""Fast native readers: ADBC for SQLite and PostgreSQL, the duckdb module for DuckDB."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc

from softquery.data import sqlite_types
from softquery.data.connection import DEFAULT_STATEMENT_TIMEOUT_SECONDS, SourceConnection
from softquery.data.readonly import timeout_error, write_refused
from softquery.data.source_urls import file_path_of, mask_url, native_postgres_uri, parse_url
from softquery.data.sqlite_journal import interrupted_write, pending_journal
from softquery.errors import SoftqueryError, SourceError

T = TypeVar("T")

SQLITE_BATCH_ROWS_OPTION = "adbc.sqlite.query.batch_rows"
SQLITE_TABLE_BATCH_ROWS = 10_000  # type-inference window of read_table
SCHEMA_SAMPLE_ROWS = 1_000  # SQLite has no column types without rows: sample this many


def existing_file(url: str, label: str) -> Path | None:
    path = file_path_of(url)
    if path is None:
        return None
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_file():
        raise SourceError(
            f"The {label} file {resolved} does not exist. Check the path in the data source URL "
            f"{mask_url(url)} (an absolute path needs four slashes, e.g. {parse_url(url).drivername}:////abs/path).",
            details={"url": mask_url(url), "path": str(resolved)},
        )
    return resolved


def rebatch(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """Re-cut a stream into batches of ``rows`` rows (last one shorter)."""
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    for batch in batches:
        offset = 0
        while offset < batch.num_rows:
            piece = batch.slice(offset, rows - pending_rows)
            offset += piece.num_rows
            pending.append(piece)
            pending_rows += piece.num_rows
            if pending_rows == rows:
                yield pending[0] if len(pending) == 1 else pa.concat_batches(pending)
                pending, pending_rows = [], 0
    if pending_rows:
        yield pending[0] if len(pending) == 1 else pa.concat_batches(pending)


# What the SQLite guard's authorizer lets a query do: read, call functions, recurse.
_SQLITE_ALLOWED = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                             getattr(sqlite3, "SQLITE_RECURSIVE", 33)})
_SQLITE_DENIED_FUNCTIONS = frozenset({"load_extension", "writefile", "edit", "fts3_tokenizer"})


def _sqlite_authorizer(action: int, arg1: str | None, arg2: str | None, _db: str | None,
                       _trigger: str | None) -> int:
    if action not in _SQLITE_ALLOWED:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _SQLITE_DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


class SqliteSource(SourceConnection):
    """SQLite file through ADBC, read-only three ways.

    The ADBC connection opens the file ``mode=ro`` with ``pragma query_only``.
    Before that connection sees a query, a *guard* connection (Python's
    ``sqlite3`` on the same file, also read-only) compiles it under an
    authorizer that allows only reads: ATTACH, PRAGMA and every write are
    refused before anything runs. ADBC's SQLite driver cannot be interrupted
    (no cancel, progress handler or ``sqlite3_interrupt``), so the statement
    timeout works two ways: a preview runs first on the guard connection under
    a progress handler that interrupts it at the deadline, and every ADBC call
    runs on a daemon thread the caller stops waiting for at the deadline (the
    abandoned statement runs on in that thread until SQLite finishes it, in the
    supervisor that read it; ``interrupt`` cannot stop it either).
    """

    dialect = "sqlite"
    table_chunk_rows = SQLITE_TABLE_BATCH_ROWS

    def __init__(self, url: str, timeout: float | None = DEFAULT_STATEMENT_TIMEOUT_SECONDS) -> None:
        super().__init__(url, timeout)
        import adbc_driver_sqlite.dbapi

        path = self._path = existing_file(url, "SQLite")
        uri = ":memory:" if path is None else f"file:{quote(str(path))}?mode=ro"
        # autocommit: no read transaction left open to block writers of the same file.
        self._conn = adbc_driver_sqlite.dbapi.connect(uri, autocommit=True)
        self._abandoned = False
        self._deadline: float | None = None
        with self._conn.cursor() as cursor:  # wait briefly for a writer's commit instead of failing
            cursor.execute("pragma busy_timeout = 10000")
            cursor.execute("pragma query_only = 1")
        self._guard = sqlite3.connect(uri, uri=path is not None, check_same_thread=False)
        self._guard.execute("pragma busy_timeout = 10000")
        self._guard.execute("pragma query_only = 1")
        self._guard.set_authorizer(_sqlite_authorizer)

    def close(self) -> None:
        self._guard.close()
        if not self._abandoned:  # a statement still runs on an abandoned thread: leave it be
            self._conn.close()

    def _blocked(self, what: str | None) -> SoftqueryError | None:
        journal = None if self._path is None else pending_journal(self._path)
        return None if journal is None else interrupted_write(self.url, journal, what)

    # -- guard -----------------------------------------------------------------------
    def _preflight(self, sql: str, what: str, *, run: bool) -> None:
        self._deadline = None if self.timeout is None else time.monotonic() + self.timeout
        deadline = self._deadline
        if run and deadline is not None:
            self._guard.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            cursor = self._guard.execute(sql if run else "explain " + sql)
            cursor.fetchall()
        except sqlite3.Error as exc:
            text = str(exc)
            if "not authorized" in text or "prohibited" in text:
                raise write_refused(what, sql, "", database_message=text) from None
            if run and "interrupted" in text:
                raise timeout_error(what, sql, self.timeout or 0) from None
            # Anything else (e.g. a function only the newer ADBC SQLite knows): the
            # read-only ADBC connection reports the real error.
        finally:
            if run:
                self._guard.set_progress_handler(None, 0)

    def _call(self, fn: Callable[[], T], what: str, sql: str) -> T:
        """Run one ADBC call, giving up at the statement deadline."""
        if self._deadline is None:
            return fn()
        if self._abandoned:
            raise timeout_error(what, sql, self.timeout or 0)
        box: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=work, name="softquery-sqlite-query", daemon=True).start()
        if not done.wait(max(0.0, self._deadline - time.monotonic())):
            self._abandoned = True
            raise timeout_error(what, sql, self.timeout or 0)
        if "error" in box:
            raise box["error"]
        return box["value"]  # type: ignore[no-any-return]

    def _reader(self, sql: str, batch_rows: int, what: str = "query") -> tuple[Any, pa.RecordBatchReader]:
        cursor = self._conn.cursor()
        cursor.adbc_statement.set_options(**{SQLITE_BATCH_ROWS_OPTION: str(batch_rows)})

        def start() -> pa.RecordBatchReader:
            cursor.execute(sql)
            return cursor.fetch_record_batch()

        try:
            return cursor, self._call(start, what, sql)
        except Exception:
            if not self._abandoned:
                cursor.close()
            raise

    def _stream(self, sql: str, what: str, batch_rows: int) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        cursor, reader = self._reader(sql, batch_rows, what)
        schema = reader.schema

        def next_batch() -> pa.RecordBatch | None:
            try:
                return reader.read_next_batch()
            except StopIteration:
                return None

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                while (batch := self._call(next_batch, what, sql)) is not None:
                    sqlite_types.check_batch(batch, what=what)
                    yield batch
            except (OSError, pa.ArrowException) as exc:
                explained = sqlite_types.explain_mismatch(exc, schema, what=what)
                if explained is None:
                    raise
                raise explained from exc
            finally:
                if not self._abandoned:
                    cursor.close()

        return schema, batches()

    def _schema(self, sql: str, what: str) -> pa.Schema:
        sample = f"select * from (\n{sql}\n) as _sq_schema limit {SCHEMA_SAMPLE_ROWS}"  # noqa: S608
        return self._table(sample, what).schema

    def _table(self, sql: str, what: str) -> pa.Table:
        schema, batches = self._stream(sql, what, self.table_chunk_rows)
        return pa.Table.from_batches(list(batches), schema=schema)

    def _batches(self, sql: str, what: str, chunk_rows: int) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        return self._stream(sql, what, chunk_rows)


def _postgres_plan(schema: pa.Schema) -> tuple[pa.Schema, Callable[[pa.RecordBatch], pa.RecordBatch]]:
    """Plain Arrow types for PostgreSQL results: NUMERIC → float64, other opaque → storage."""
    fields: list[pa.Field] = []
    converters: list[Callable[[pa.Array], pa.Array] | None] = []
    for field in schema:
        typ = field.type
        if isinstance(typ, pa.BaseExtensionType):
            name = getattr(typ, "type_name", "")
            if name == "numeric":
                fields.append(pa.field(field.name, pa.float64()))
                converters.append(lambda arr: pc.cast(arr.storage, pa.float64()))
            else:
                fields.append(pa.field(field.name, typ.storage_type))
                converters.append(lambda arr: arr.storage)
        else:
            fields.append(pa.field(field.name, typ))
            converters.append(None)
    target = pa.schema(fields)
    if all(conv is None for conv in converters):
        return target, lambda batch: batch.replace_schema_metadata(None).cast(target)

    def convert(batch: pa.RecordBatch) -> pa.RecordBatch:
        columns = [col if conv is None else conv(col) for col, conv in zip(batch.columns, converters, strict=True)]
        return pa.RecordBatch.from_arrays(columns, schema=target)

    return target, convert


class PostgresSource(SourceConnection):
    """PostgreSQL through ADBC: every query in its own ``READ ONLY`` transaction.

    The session also defaults to read-only, and each transaction sets a local
    ``statement_timeout`` (it covers the whole read, streaming included).
    """

    dialect = "postgresql"

    def __init__(self, url: str, timeout: float | None = DEFAULT_STATEMENT_TIMEOUT_SECONDS) -> None:
        super().__init__(url, timeout)
        import adbc_driver_postgresql.dbapi

        uri = native_postgres_uri(url)
        if "options=" not in uri:  # read-only sessions as a second fence
            uri += ("&" if "?" in uri else "?") + "options=-c%20default_transaction_read_only%3Don"
        self._conn = adbc_driver_postgresql.dbapi.connect(uri, autocommit=False)

    def close(self) -> None:
        try:
            self._conn.rollback()
        finally:
            self._conn.close()

    def interrupt(self) -> None:
        with contextlib.suppress(Exception):  # the read may have ended meanwhile
            self._conn.adbc_connection.cancel()

    def _preflight(self, sql: str, what: str, *, run: bool) -> None:
        self._begin()

    def _begin(self) -> None:
        """End the previous read and start a read-only transaction with the statement timeout."""
        self._conn.rollback()
        with self._conn.cursor() as cursor:
            cursor.execute("set transaction read only")
            millis = 0 if self.timeout is None else max(1, int(self.timeout * 1000))
            cursor.execute(f"set local statement_timeout = {millis}")

    def _schema(self, sql: str, what: str) -> pa.Schema:
        with self._conn.cursor() as cursor:
            cursor.execute(f"select * from (\n{sql}\n) as _sq_schema limit 0")  # noqa: S608
            return _postgres_plan(cursor.fetch_record_batch().schema)[0]

    def _table(self, sql: str, what: str) -> pa.Table:
        with self._conn.cursor() as cursor:
            cursor.execute(sql)
            table = cursor.fetch_arrow_table()
        schema, convert = _postgres_plan(table.schema)
        return pa.Table.from_batches([convert(b) for b in table.to_batches()], schema=schema)

    def _batches(self, sql: str, what: str, chunk_rows: int) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        cursor = self._conn.cursor()
        try:
            cursor.execute(sql)
            reader = cursor.fetch_record_batch()
        except Exception:
            cursor.close()
            raise
        schema, convert = _postgres_plan(reader.schema)

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                yield from rebatch((convert(b) for b in reader), chunk_rows)
            finally:
                cursor.close()

        return schema, batches()


class DuckdbSource(SourceConnection):
    """DuckDB file on a ``read_only`` connection; every query runs wrapped in
    ``select * from (...)``, and a timer thread interrupts it at the deadline.

    DuckDB refuses a read-only and a read-write handle on the same file in one
    process, so the prediction writer connects only after this reader closed
    (``softquery.data.sinks.DuckdbSink`` connects lazily).
    """

    dialect = "duckdb"

    def __init__(self, url: str, timeout: float | None = DEFAULT_STATEMENT_TIMEOUT_SECONDS) -> None:
        super().__init__(url, timeout)
        import duckdb

        path = existing_file(url, "DuckDB")
        # queries see the database and nothing else of the server: no read_csv('/etc/…'),
        # no ATTACH, no httpfs; and a query cannot switch that back on
        config: dict[str, str | bool | int | float | list[str]] = {
            "enable_external_access": False, "lock_configuration": True}
        if path is None:
            self._conn = duckdb.connect(":memory:", config=config)
        else:
            self._conn = duckdb.connect(str(path), read_only=True, config=config)
        self._timer: threading.Timer | None = None

    def close(self) -> None:
        self._disarm()
        self._conn.close()

    def interrupt(self) -> None:
        with contextlib.suppress(Exception):  # the read may have ended meanwhile
            self._conn.interrupt()

    def _preflight(self, sql: str, what: str, *, run: bool) -> None:
        self._disarm()
        self._timed_out = False
        if self.timeout is not None:
            self._timer = threading.Timer(self.timeout, self._interrupt)
            self._timer.daemon = True
            self._timer.start()

    def _interrupt(self) -> None:
        self._timed_out = True
        self._conn.interrupt()

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _relation(self, sql: str) -> Any:
        return self._conn.sql(f"select * from (\n{sql}\n) as _sq_query")  # noqa: S608

    def _schema(self, sql: str, what: str) -> pa.Schema:
        try:
            return self._relation(sql).limit(0).to_arrow_table().schema
        finally:
            self._disarm()

    def _table(self, sql: str, what: str) -> pa.Table:
        try:
            return self._relation(sql).to_arrow_table()
        finally:
            self._disarm()

    def _batches(self, sql: str, what: str, chunk_rows: int) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        reader = self._relation(sql).to_arrow_reader(chunk_rows)

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                yield from reader
            finally:
                self._disarm()

        return reader.schema, batches()
