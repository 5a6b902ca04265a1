"""SELECT statements: over the source (read-only), ML.PREDICT, model calls, CREATE TABLE AS."""

from __future__ import annotations

import pyarrow as pa

from softquery.auth.policy import Action
from softquery.data import open_source
from softquery.errors import InvalidInputError
from softquery.services.preview import PREVIEW_TIMEOUT_SECONDS, json_safe
from softquery.services.sql_results import ResultColumn, StatementResult
from softquery.services.sql_session import Handler, Session
from softquery.sql.statements import Query, Statement


def table_result(session: Session, verb: str, table: pa.Table) -> StatementResult:
    """A table answer: the first ``session.max_rows`` rows, JSON-safe, and how many there were."""
    shown = table.slice(0, session.max_rows)
    columns = [shown.column(i).to_pylist() for i in range(shown.num_columns)]
    rows = [[json_safe(col[r]) for col in columns] for r in range(shown.num_rows)]
    return StatementResult(statement=0, line=0, column=0, verb=verb, kind="table",
                           columns=[ResultColumn(f.name, str(f.type)) for f in table.schema],
                           rows=rows, row_count=table.num_rows, truncated=table.num_rows > shown.num_rows)


def source_of(session: Session, statement: Statement, named: str | None = None) -> str:
    source = named or session.source
    if source is None:
        names = [s.name for s in session.ctx.sources.list()]
        raise InvalidInputError(
            "Which data source should this statement read? Choose one (--source NAME, or \"source\" in "
            f"the API), or qualify names as source.table. Sources: {', '.join(names) or 'none yet'}.",
            details={"line": statement.where.error('').details["line"]})
    return source


def run_query(session: Session, statement: Statement) -> StatementResult:
    assert isinstance(statement, Query)
    session.require(statement, Action.READ)
    url = session.ctx.sources.get(source_of(session, statement)).url
    timeout = min(session.ctx.settings.statement_timeout_seconds, PREVIEW_TIMEOUT_SECONDS)
    with open_source(url, timeout=timeout) as conn:
        table = conn.preview(statement.where.text, what="query", limit=session.max_rows + 1)
    return table_result(session, "select", table)


HANDLERS: dict[type[Statement], Handler] = {Query: run_query}
