"""Where a statement's rows come from: the source (read-only, streamed or bounded) or DuckDB over Arrow.

A query part the source can run goes to it (through the data layer: read-only, with the
statement time limit). What softquery computes itself — ML.PREDICT's result, model calls'
predictions, the script's own tables — is an Arrow table, and the query around it runs in
an in-memory DuckDB over those tables; a source table such a query names is read into it,
at most ``MAX_SOURCE_ROWS`` rows (a clear error above that: put the filter in the inner
SELECT, which runs on the source).
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from sqlglot import exp

from softquery.data import dialect_of, open_source
from softquery.data.feed import SourceFeed, waiting
from softquery.errors import InvalidInputError, LimitExceededError, QueryError
from softquery.services.sql_session import Session
from softquery.sql.statements import Statement

MAX_SOURCE_ROWS = 5_000_000  # rows of one source table or input read into the statement's DuckDB
# softquery's dialect names -> sqlglot's
SQLGLOT_DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite", "duckdb": "duckdb", "mysql": "mysql"}


def sqlglot_dialect(url: str) -> str:
    return SQLGLOT_DIALECTS.get(dialect_of(url), dialect_of(url))


def source_of(session: Session, statement: Statement, named: str | None = None) -> str:
    """The source a statement reads: the one it names, else the script's default (else an error)."""
    source = named or session.source
    if source is None:
        # softquery's own sources for MLSQL models' rows (mlsql_<model>) are never a default
        names = [s.name for s in session.ctx.sources.list()]
        people = [n for n in names if not n.startswith("mlsql_")]
        if len(people) == 1:
            return people[0]  # the only source there is
        raise InvalidInputError(
            "Which data source should this statement read? Choose one (--source NAME, the console's source "
            f"list, or \"source\" in the API). Sources: {', '.join(names) or 'none yet'}.",
            details={"line": statement.where.error('').details["line"]})
    return source


def source_url(session: Session, statement: Statement, named: str | None = None) -> str:
    return session.ctx.sources.get(source_of(session, statement, named)).url


@contextlib.contextmanager
def source_stream(session: Session, url: str, sql: str) -> Iterator[Iterator[pa.RecordBatch]]:
    """The batches of ``sql`` on the source, read in a thread while the caller predicts."""
    settings = session.ctx.settings
    with SourceFeed(url, sql, what="query", chunk_rows=settings.chunk_rows,
                    timeout=settings.statement_timeout_seconds) as feed:
        def batches() -> Iterator[pa.RecordBatch]:
            while (batch := waiting(feed.get, _idle)) is not None:
                yield batch
        schema = waiting(feed.schema, _idle)
        yield itertools.chain([pa.RecordBatch.from_pylist([], schema=schema)], batches())


def _idle() -> None:
    return None


def read_source(session: Session, url: str, sql: str, what: str, cap: int | None = None) -> pa.Table:
    """The whole result of ``sql`` on the source, refusing more than ``cap`` rows (default
    ``MAX_SOURCE_ROWS``)."""
    cap = MAX_SOURCE_ROWS if cap is None else cap
    settings = session.ctx.settings
    with open_source(url, timeout=settings.statement_timeout_seconds) as conn:
        schema, batches = conn.read_batches(sql, what="query", chunk_rows=settings.chunk_rows)
        kept: list[pa.RecordBatch] = []
        rows = 0
        try:
            for batch in batches:
                rows += batch.num_rows
                if rows > cap:
                    raise LimitExceededError(
                        f"{what} has more than {cap:,} rows, more than softquery reads into one statement. "  # noqa: S608
                        "Filter it in a SELECT that runs on the source, e.g. ML.PREDICT(MODEL m, (SELECT … "
                        "FROM t WHERE …)), or write the predictions to a table (CREATE TABLE … AS).",
                        code="too_many_rows", details={"max_rows": cap})
                kept.append(batch)
        finally:
            getattr(batches, "close", lambda: None)()
    return pa.Table.from_batches(kept, schema=schema)


class DuckEnv:
    """An in-memory DuckDB holding the statement's Arrow tables under names of its own."""

    def __init__(self) -> None:
        import duckdb

        self.conn: Any = duckdb.connect(":memory:")
        self.conn.execute("set enable_external_access = false")
        self._count = 0
        self._columns: list[str] = []

    def register(self, table: pa.Table, hint: str = "t") -> str:
        self._count += 1
        name = f"_sq_{hint}_{self._count}"
        self.conn.register(name, table)
        self._columns.extend(table.schema.names)
        return name

    def columns(self) -> list[str]:
        """The columns of every table registered here (names a query over them may mean)."""
        return list(dict.fromkeys(self._columns))

    def query(self, sql: str) -> pa.Table:
        import duckdb

        try:
            return self.conn.sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            raise QueryError(f"The query over the predictions failed: {str(exc).splitlines()[0]}",
                             details={"database_message": str(exc)[:2000], "sql": sql[:2000]}) from None

    def stream(self, sql: str, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        import duckdb

        try:
            reader = self.conn.sql(sql).to_arrow_reader(chunk_rows)
        except duckdb.Error as exc:
            raise QueryError(f"The query failed: {str(exc).splitlines()[0]}",
                             details={"database_message": str(exc)[:2000], "sql": sql[:2000]}) from None
        yield pa.RecordBatch.from_pylist([], schema=reader.schema)
        yield from reader

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> DuckEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def table_names(tree: exp.Expr) -> list[exp.Table]:
    """The tables ``tree`` reads (not its CTEs' names, not table functions)."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    return [t for t in tree.find_all(exp.Table)
            if isinstance(t.this, exp.Identifier) and t.name.lower() not in ctes]


def writable(table: pa.Table) -> pa.Table:
    """Lists and structs (``predicted_<label>_probs``) become JSON text: every source stores that."""
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_nested(field.type):
            column = pa.array([None if v is None else json.dumps(v, default=str) for v in column.to_pylist()],
                              type=pa.string())
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.schema.names)
