"""Fast native readers: ADBC for SQLite and PostgreSQL, the duckdb module for DuckDB."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc

from softquery.data import sqlite_types
from softquery.data.connection import SourceConnection
from softquery.data.sources import file_path_of, mask_url, native_postgres_uri, parse_url
from softquery.errors import SourceError

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


class SqliteSource(SourceConnection):
    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        import adbc_driver_sqlite.dbapi

        path = existing_file(url, "SQLite")
        uri = ":memory:" if path is None else f"file:{quote(str(path))}?mode=ro"
        # autocommit: no read transaction left open to block writers of the same file.
        self._conn = adbc_driver_sqlite.dbapi.connect(uri, autocommit=True)
        with self._conn.cursor() as cursor:  # wait briefly for a writer's commit instead of failing
            cursor.execute("pragma busy_timeout = 10000")

    def close(self) -> None:
        self._conn.close()

    def _reader(self, sql: str, batch_rows: int) -> tuple[Any, pa.RecordBatchReader]:
        cursor = self._conn.cursor()
        cursor.adbc_statement.set_options(**{SQLITE_BATCH_ROWS_OPTION: str(batch_rows)})
        try:
            cursor.execute(sql)
            return cursor, cursor.fetch_record_batch()
        except Exception:
            cursor.close()
            raise

    def _stream(self, sql: str, what: str, batch_rows: int) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        cursor, reader = self._reader(sql, batch_rows)
        schema = reader.schema

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                for batch in reader:
                    sqlite_types.check_batch(batch, what=what)
                    yield batch
            except (OSError, pa.ArrowException) as exc:
                explained = sqlite_types.explain_mismatch(exc, schema, what=what)
                if explained is None:
                    raise
                raise explained from exc
            finally:
                cursor.close()

        return schema, batches()

    def _schema(self, sql: str, what: str) -> pa.Schema:
        sample = f"select * from (\n{sql}\n) as _sq_schema limit {SCHEMA_SAMPLE_ROWS}"  # noqa: S608
        return self._table(sample, what).schema

    def _table(self, sql: str, what: str) -> pa.Table:
        schema, batches = self._stream(sql, what, SQLITE_TABLE_BATCH_ROWS)
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
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        import adbc_driver_postgresql.dbapi

        uri = native_postgres_uri(url)
        if "options=" not in uri:  # read-only sessions: a query can never write
            uri += ("&" if "?" in uri else "?") + "options=-c%20default_transaction_read_only%3Don"
        self._conn = adbc_driver_postgresql.dbapi.connect(uri, autocommit=True)

    def close(self) -> None:
        self._conn.close()

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
    """DuckDB file. Every query runs wrapped in ``select * from (...)`` so it cannot write."""

    dialect = "duckdb"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        import duckdb

        path = existing_file(url, "DuckDB")
        # Not read_only: DuckDB refuses a read-only and a read-write handle on the
        # same file in one process, and the prediction writer needs read-write.
        self._conn = duckdb.connect(":memory:" if path is None else str(path))

    def close(self) -> None:
        self._conn.close()

    def _relation(self, sql: str) -> Any:
        return self._conn.sql(f"select * from (\n{sql}\n) as _sq_query")  # noqa: S608

    def _schema(self, sql: str, what: str) -> pa.Schema:
        return self._relation(sql).limit(0).to_arrow_table().schema

    def _table(self, sql: str, what: str) -> pa.Table:
        return self._relation(sql).to_arrow_table()

    def _batches(self, sql: str, what: str, chunk_rows: int) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        reader = self._relation(sql).to_arrow_reader(chunk_rows)
        return reader.schema, iter(reader)
