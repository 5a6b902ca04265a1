"""The input rows of an ML table function (``(SELECT …)`` or ``TABLE t``), read from a source."""

from __future__ import annotations

import pyarrow as pa
from sqlglot import exp

from softquery.data import dialect_of, open_source
from softquery.services.sql_session import Session
from softquery.sql.dialect import MLFunction
from softquery.sql.statements import Statement

# sqlglot's dialect for a source's SQL (data.source_urls.dialect_of names)
SOURCE_DIALECTS = {"sqlite": "sqlite", "duckdb": "duckdb", "postgresql": "postgres", "mysql": "mysql"}


def input_rows(session: Session, statement: Statement, given: exp.Expr, source: str) -> pa.Table:
    """The rows ``given`` names, read from ``source`` (``TABLE other_source.t`` reads that source),
    the SELECT written in the source's dialect."""
    table = given.copy()
    if isinstance(table, exp.Table) and table.db and not table.catalog and \
            table.db in {s.name for s in session.ctx.sources.list()}:
        source = table.db
        table.set("db", None)
    url = session.ctx.sources.get(source).url
    dialect = SOURCE_DIALECTS.get(dialect_of(url))
    if any(True for _ in table.find_all(MLFunction)):
        raise statement.where.error("An ML function's input rows are read from the source: a SELECT over its "
                                    "tables, without ML functions inside.")
    if isinstance(table, exp.Table):
        sql = exp.select("*").from_(table).sql(dialect=dialect)
    else:
        inner = table.this if isinstance(table, exp.Subquery) else table
        sql = inner.sql(dialect=dialect)
    with open_source(url, timeout=session.ctx.settings.statement_timeout_seconds) as conn:
        return conn.read_table(sql, what="the ML function's input rows")
