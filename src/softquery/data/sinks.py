"""Low-level writes of Arrow batches into a database, one class per backend.

A sink can: append a batch to a table (creating it from the batch's schema),
list a table's columns, and run statements in ONE transaction. The staging +
swap protocol that uses them lives in ``softquery.prediction.table_writer``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from softquery.data.native import existing_file
from softquery.data.source_urls import dialect_of, native_postgres_uri

SQLITE_BUSY_TIMEOUT_MS = 30_000


def quoter(dialect: str, url: str) -> Any:
    """The dialect's identifier preparer (DuckDB quotes like PostgreSQL)."""
    from sqlalchemy.dialects import postgresql, sqlite

    if dialect == "sqlite":
        return sqlite.dialect().identifier_preparer
    if dialect in ("postgresql", "duckdb"):
        return postgresql.dialect().identifier_preparer  # type: ignore[no-untyped-call]
    return sa.create_engine(url).dialect.identifier_preparer


class Sink(ABC):
    dialect: str

    def __init__(self, url: str) -> None:
        self.url = url
        self._preparer = quoter(self.dialect, url)

    def quote(self, name: str) -> str:
        return str(self._preparer.quote_identifier(name))

    @abstractmethod
    def append(self, table: str, batch: pa.RecordBatch, *, create: bool) -> None:
        """Append ``batch`` to ``table`` (created first when ``create``), committed."""

    @abstractmethod
    def columns(self, table: str) -> list[str] | None:
        """Column names of ``table``, or None when it does not exist."""

    @abstractmethod
    def table_names(self) -> list[str]:
        """Names of the tables this connection creates tables in (its current schema)."""

    @abstractmethod
    def transaction(self, statements: list[str]) -> None:
        """Run ``statements`` in one transaction (all or nothing)."""

    @abstractmethod
    def close(self) -> None: ...


def _iso_timestamps(batch: pa.RecordBatch) -> pa.RecordBatch:
    """SQLite has no timestamp type: store UTC ISO-8601 text ('2026-01-01 10:00:00.123456')."""
    if not any(pa.types.is_timestamp(f.type) for f in batch.schema):
        return batch
    columns, fields = [], []
    for field, column in zip(batch.schema, batch.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            # Dropping the zone keeps the UTC instant; casting naive → text is ~10x faster
            # than strftime or a zoned cast.
            column = column.cast(pa.timestamp(field.type.unit)).cast(pa.string())
            field = pa.field(field.name, pa.string())
        columns.append(column)
        fields.append(field)
    return pa.RecordBatch.from_arrays(columns, schema=pa.schema(fields))


class _AdbcSink(Sink):
    # Commit the staging table every this many rows: bounded memory and write locks
    # (SQLite takes an exclusive lock once its page cache spills) vs. fsync cost.
    commit_rows = 500_000

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._conn = self._connect()
        self._uncommitted = 0

    @abstractmethod
    def _connect(self) -> Any: ...

    def _prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return batch

    def append(self, table: str, batch: pa.RecordBatch, *, create: bool) -> None:
        with self._conn.cursor() as cursor:
            cursor.adbc_ingest(table, self._prepare(batch), mode="create" if create else "append")
        self._uncommitted += batch.num_rows
        if create or self._uncommitted >= self.commit_rows:
            self._conn.commit()
            self._uncommitted = 0

    def transaction(self, statements: list[str]) -> None:
        self._conn.commit()  # staged rows first: the swap transaction holds only the swap
        self._uncommitted = 0
        try:
            with self._conn.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
            self._conn.commit()
        except BaseException:
            self._conn.rollback()
            raise

    def close(self) -> None:
        self._conn.close()


class SqliteSink(_AdbcSink):
    dialect = "sqlite"

    def _connect(self) -> Any:
        import adbc_driver_sqlite.dbapi

        path = existing_file(self.url, "SQLite")
        conn = adbc_driver_sqlite.dbapi.connect(":memory:" if path is None else str(path))
        with conn.cursor() as cursor:  # wait for readers instead of failing at the swap
            cursor.execute(f"pragma busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        conn.commit()
        return conn

    def _prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return _iso_timestamps(batch)

    def columns(self, table: str) -> list[str] | None:
        with self._conn.cursor() as cursor:
            cursor.execute("select name from pragma_table_info(?) order by cid", (table,))
            names = [row[0] for row in cursor.fetchall()]
        self._conn.commit()
        return names or None

    def table_names(self) -> list[str]:
        # Reading the file on this read-write connection also rolls back a hot journal
        # (``softquery.data.sqlite_journal``).
        with self._conn.cursor() as cursor:
            cursor.execute("select name from sqlite_master where type = 'table' order by name")
            names = [str(row[0]) for row in cursor.fetchall()]
        self._conn.commit()
        return names


class PostgresSink(_AdbcSink):
    dialect = "postgresql"

    def _connect(self) -> Any:
        import adbc_driver_postgresql.dbapi

        return adbc_driver_postgresql.dbapi.connect(native_postgres_uri(self.url))

    def columns(self, table: str) -> list[str] | None:
        with self._conn.cursor() as cursor:
            cursor.execute(
                "select column_name from information_schema.columns where table_schema = current_schema() "
                "and table_name = $1 order by ordinal_position", (table,))
            names = [row[0] for row in cursor.fetchall()]
        self._conn.commit()
        return names or None

    def table_names(self) -> list[str]:
        with self._conn.cursor() as cursor:
            cursor.execute("select table_name from information_schema.tables where table_schema = "
                           "current_schema() and table_type = 'BASE TABLE' order by table_name")
            names = [str(row[0]) for row in cursor.fetchall()]
        self._conn.commit()
        return names


class DuckdbSink(Sink):
    """Connects on first use: the (read-only) source reader of the same file must be
    closed by then, as DuckDB allows one configuration per file and process."""

    dialect = "duckdb"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._path = existing_file(url, "DuckDB")
        self._db: Any = None

    @property
    def _conn(self) -> Any:
        if self._db is None:
            import duckdb

            self._db = duckdb.connect(":memory:" if self._path is None else str(Path(self._path)))
        return self._db

    def append(self, table: str, batch: pa.RecordBatch, *, create: bool) -> None:
        self._conn.register("_sq_batch", batch)
        try:
            verb = f"create table {self.quote(table)} as" if create else f"insert into {self.quote(table)}"
            self._conn.execute(f"{verb} select * from _sq_batch")  # noqa: S608
        finally:
            self._conn.unregister("_sq_batch")

    def columns(self, table: str) -> list[str] | None:
        rows = self._conn.execute(
            "select column_name from information_schema.columns where table_schema = current_schema() "
            "and table_name = ? order by ordinal_position", [table]).fetchall()
        return [row[0] for row in rows] or None

    def table_names(self) -> list[str]:
        rows = self._conn.execute(
            "select table_name from information_schema.tables where table_catalog = current_database() "
            "and table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name").fetchall()
        return [str(row[0]) for row in rows]

    def transaction(self, statements: list[str]) -> None:
        self._conn.execute("begin transaction")
        try:
            for statement in statements:
                self._conn.execute(statement)
            self._conn.execute("commit")
        except BaseException:
            self._conn.execute("rollback")
            raise

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class SqlAlchemySink(Sink):
    """Any other backend: pandas ``to_sql``; atomic only where DDL is transactional."""

    def __init__(self, url: str) -> None:
        self.dialect = dialect_of(url)
        super().__init__(url)
        self._engine = sa.create_engine(url)

    def append(self, table: str, batch: pa.RecordBatch, *, create: bool) -> None:
        with self._engine.begin() as conn:
            batch.to_pandas().to_sql(table, conn, if_exists="append", index=False)

    def columns(self, table: str) -> list[str] | None:
        inspector = sa.inspect(self._engine)
        if not inspector.has_table(table):
            return None
        return [str(col["name"]) for col in inspector.get_columns(table)]

    def table_names(self) -> list[str]:
        return [str(name) for name in sa.inspect(self._engine).get_table_names()]

    def transaction(self, statements: list[str]) -> None:
        with self._engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))

    def close(self) -> None:
        self._engine.dispose()


def open_sink(url: str) -> Sink:
    dialect = dialect_of(url)
    kinds: dict[str, type[Sink]] = {"sqlite": SqliteSink, "postgresql": PostgresSink, "duckdb": DuckdbSink}
    return kinds.get(dialect, SqlAlchemySink)(url)
