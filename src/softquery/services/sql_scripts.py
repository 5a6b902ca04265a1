"""Use case: run a SQL script (BigQuery ML and MLSQL statements) for the acting user.

A statement is one more entry point over the same use cases as the CLI, API and web UI:
each one is checked with the same permission policy, creates models, runs and versions
through the same services and is audited with its text. ``run_script`` parses the whole
script first (a syntax error anywhere runs nothing), then runs the statements in order and
stops at the first that fails; the answer says what the earlier ones did.

Each kind of statement has a handler (``HANDLERS``), in a module named after what it does:
``sql_models`` (CREATE/DROP MODEL), ``sql_ml_functions`` (ML.EVALUATE …), ``sql_queries``
(SELECT, ML.PREDICT, model calls, CREATE TABLE AS), ``sql_mlsql`` (load, train, …).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from softquery.errors import InternalError, SoftqueryError
from softquery.services import sql_create_table, sql_mlsql, sql_models, sql_queries
from softquery.services.context import ServiceContext
from softquery.services.sql_results import ScriptResult, StatementResult
from softquery.services.sql_session import MAX_RESULT_ROWS, Handler, Session
from softquery.sql.parse import parse_script
from softquery.sql.statements import Statement

log = logging.getLogger(__name__)

# every statement kind's handler; each module names the kinds it runs
HANDLERS: dict[type[Statement], Handler] = {
    **sql_queries.HANDLERS,
    **sql_models.HANDLERS,
    **sql_create_table.HANDLERS,
    **sql_mlsql.HANDLERS,
}


def run_script(ctx: ServiceContext, sql: str, *, source: str | None = None,
               params: Mapping[str, str] | None = None, wait: bool = False,
               max_rows: int = MAX_RESULT_ROWS) -> ScriptResult:
    """Parse ``sql`` and run its statements in order (see the module docstring)."""
    started = time.monotonic()
    statements = parse_script(sql, params)  # SqlError: nothing ran
    if source is not None:
        ctx.sources.get(source)  # NotFoundError names the source before anything runs
    session = Session(ctx, source, wait=wait, max_rows=max_rows)
    results: list[StatementResult] = []
    for number, statement in enumerate(statements, start=1):
        handler = HANDLERS.get(type(statement))
        begun = time.monotonic()
        try:
            if handler is None:
                raise statement.where.error(f"{statement.verb} statements are not supported yet.")
            result = handler(session, statement)
        except SoftqueryError as exc:
            return ScriptResult(results, error=exc.to_dict(), failed_statement=number,
                                seconds=time.monotonic() - started)
        except Exception as exc:  # a bug: the earlier statements' results still go back
            log.exception("statement %d of a SQL script failed unexpectedly", number)
            where = statement.where.error("").details
            error = InternalError(
                f"softquery hit an unexpected error running statement {number} (line {where['line']}): "
                f"{type(exc).__name__}: {exc}. The statements before it ran (their results are in the answer). "
                "Please report it with the server log.",
                details={"line": where["line"], "column": where["column"], "excerpt": where["excerpt"]})
            return ScriptResult(results, error=error.to_dict(), failed_statement=number,
                                seconds=time.monotonic() - started)
        where = statement.where.error("").details
        result.statement, result.line, result.column = number, where["line"], where["column"]
        result.seconds = time.monotonic() - begun
        results.append(result)
    return ScriptResult(results, seconds=time.monotonic() - started)
