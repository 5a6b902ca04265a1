"""SELECT statements: the query planner (over the source read-only, ML.PREDICT, model calls).

Which engine answers a Query (``plan``):

* **source** — no ML function, no model call, no script table: the text goes to the source
  verbatim (read-only, bounded like a preview);
* **calls** — model calls only in the outermost SELECT's list (or ORDER BY): the source
  runs the query with each call replaced by its argument columns, the rows stream to the
  models' sandboxed children, the predictions go where the calls stood
  (``sql_model_calls``: the path for millions of rows);
* **script** — the FROM names only the script's own tables (MLSQL ``load``):
  ``sql_script_tables.run_on_script_tables`` (DuckDB over Arrow);
* **duckdb** — anything else with an ML function (``ML.PREDICT(MODEL m, (SELECT …) | TABLE t)``,
  ``ML.EVALUATE`` …), a model call inside a subquery, or script tables mixed with source
  tables: each ML function and each subquery with model calls is computed into an Arrow
  table, and the query around them runs in DuckDB (``sql_materialise``).
"""

from __future__ import annotations

import pyarrow as pa
from sqlglot import exp

from softquery.auth.policy import Action
from softquery.data import open_source
from softquery.services.preview import PREVIEW_TIMEOUT_SECONDS, json_safe
from softquery.services.sql_materialise import run_in_duckdb
from softquery.services.sql_model_calls import (
    callable_names,
    model_calls,
    resolve_calls,
    run_model_calls,
)
from softquery.services.sql_model_child import warm_up
from softquery.services.sql_names import named_errors
from softquery.services.sql_results import Link, ResultColumn, StatementResult
from softquery.services.sql_rows import (
    read_source,
    source_of,
    source_stream,
    source_url,
    sqlglot_dialect,
    table_names,
)
from softquery.services.sql_session import Handler, Session
from softquery.sql.dialect import MLFunction
from softquery.sql.statements import Query, Statement

PLANS = ("source", "calls", "script", "duckdb")
__all__ = ["HANDLERS", "evaluate", "plan", "source_of", "table_result"]


def table_result(session: Session, verb: str, table: pa.Table) -> StatementResult:
    """A table answer: the first ``session.max_rows`` rows, JSON-safe, and how many there were."""
    shown = table.slice(0, session.max_rows)
    columns = [shown.column(i).to_pylist() for i in range(shown.num_columns)]
    rows = [[json_safe(col[r]) for col in columns] for r in range(shown.num_rows)]
    return StatementResult(statement=0, line=0, column=0, verb=verb, kind="table",
                           columns=[ResultColumn(f.name, str(f.type)) for f in table.schema],
                           rows=rows, row_count=table.num_rows, truncated=table.num_rows > shown.num_rows)


def _script_tables(session: Session, tree: exp.Expr) -> tuple[int, int]:
    """(tables of the script, other tables) that ``tree`` reads."""
    names = {n.lower() for n in session.tables}
    tables = [t for t in table_names(tree) if not t.db]
    mine = sum(1 for t in tables if t.name.lower() in names)
    others = len(table_names(tree)) - mine
    return mine, others


def plan(session: Session, tree: exp.Expr) -> str:
    """Which engine answers ``tree`` (see the module docstring)."""
    has_ml = next(tree.find_all(MLFunction), None) is not None
    calls = model_calls(session, tree)
    mine, others = _script_tables(session, tree) if session.tables else (0, 1)
    if mine and not others and not has_ml:
        return "script"
    if not has_ml and not calls and not mine:
        return "source"
    if not has_ml and not mine and isinstance(tree, exp.Select) \
            and all(node.find_ancestor(exp.Select) is tree for node in calls):
        return "calls"
    return "duckdb"


def evaluate(session: Session, statement: Statement, tree: exp.Expr, *, top: bool = False,
             source: str | None = None) -> pa.Table:
    """The rows of ``tree`` (a query): by the plan's engine; ``top``: the statement itself."""
    how = plan(session, tree)
    if how == "script":
        return _on_script_tables(session, statement, tree)
    if how == "source":
        url = source_url(session, statement, source)
        verbatim = top and isinstance(statement, Query) and statement.output is None
        sql = statement.where.text if verbatim else tree.sql(dialect=sqlglot_dialect(url))
        return named_errors(session, statement, lambda: read_source(session, url, sql, "The query"))
    if how == "calls":
        return _calls(session, statement, tree, source)
    return run_in_duckdb(session, statement, tree, source, _evaluate, plan)


def _evaluate(session: Session, statement: Statement, tree: exp.Expr, source: str | None) -> pa.Table:
    return evaluate(session, statement, tree, source=source)


def _on_script_tables(session: Session, statement: Statement, tree: exp.Expr) -> pa.Table:
    """The MLSQL work's ``sql_script_tables.run_on_script_tables`` (DuckDB over the script's tables)."""
    import importlib

    try:
        module = importlib.import_module("softquery.services.sql_script_tables")
    except ImportError:
        raise statement.where.error("A SELECT over the script's own tables is not supported yet.") from None
    result: pa.Table = module.run_on_script_tables(session, statement, tree)
    return result


def _calls(session: Session, statement: Statement, tree: exp.Expr, source: str | None) -> pa.Table:
    import sqlglot


    url = source_url(session, statement, source)
    dialect = sqlglot_dialect(url)
    try:  # the text in the source's own dialect, so its quoting and functions mean what they say
        mine = tree is statement_tree(statement) and isinstance(statement, Query) and statement.output is None
        native = sqlglot.parse_one(statement.where.text, read=dialect) if mine else None
    except Exception:  # noqa: BLE001 - the grammar's own tree then
        native = None
    select = native if isinstance(native, exp.Select) and model_calls(session, native) else tree
    assert isinstance(select, exp.Select)
    calls = resolve_calls(session, statement, model_calls(session, select))
    return named_errors(session, statement, lambda: run_model_calls(
        session, statement, select, calls, lambda sql: source_stream(session, url, sql), dialect))


def statement_tree(statement: Statement) -> exp.Expr | None:
    return statement.expression if isinstance(statement, Query) else None


def run_query(session: Session, statement: Statement) -> StatementResult:
    assert isinstance(statement, Query)
    session.require(statement, Action.READ)
    tree = statement.expression
    how = plan(session, tree)
    if how == "source" and statement.output is None:
        url = session.ctx.sources.get(source_of(session, statement)).url
        timeout = min(session.ctx.settings.statement_timeout_seconds, PREVIEW_TIMEOUT_SECONDS)
        with open_source(url, timeout=timeout) as conn:
            table = named_errors(session, statement, lambda: conn.preview(
                statement.where.text, what="query", limit=session.max_rows + 1))
        return table_result(session, "select", table)
    warm_up()
    table = evaluate(session, statement, tree, top=True)
    if statement.output is not None:
        session.tables[statement.output] = table
    result = table_result(session, "select", table)
    result.links = _model_links(session, tree)
    if statement.output is not None:
        result.notes.append(f"kept as table {statement.output} for the rest of the script")
    return result


def _model_links(session: Session, tree: exp.Expr) -> list[Link]:
    names = callable_names(session)
    models = [names[str(n.this).lower()] for n in model_calls(session, tree, names)]
    models += [node.args["model"].name for node in tree.find_all(MLFunction)]
    return [Link(kind="model", model=m) for m in dict.fromkeys(models)]


HANDLERS: dict[type[Statement], Handler] = {Query: run_query}
