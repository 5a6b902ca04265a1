"""The DuckDB plan: ML functions and model calls in subqueries become Arrow tables, and the
query around them runs in an in-memory DuckDB.

Step by step (outermost first):

1. each ``ML.PREDICT(MODEL m, (SELECT …) | TABLE t)``: the inner SELECT runs on the source
   (read-only; itself planned like any query), ``predict_table`` adds the predictions; each
   other ML function comes from ``sql_ml_functions.TABLE_FUNCTIONS``. The node becomes a
   table of the DuckDB, under its alias;
2. each subquery or CTE whose own SELECT calls a model is computed (``sql_queries.evaluate``)
   and becomes a table too;
3. the tables still named are the script's own (MLSQL ``load``) or the source's, read
   whole (at most ``sql_rows.MAX_SOURCE_ROWS`` rows, else a clear error);
4. what is left runs in DuckDB; model calls in its own SELECT list go the ``calls`` way,
   over DuckDB instead of the source.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pyarrow as pa
from sqlglot import exp
from sqlglot.tokenizer_core import Token

from softquery.errors import NotFoundError
from softquery.services.sql_ml_functions import TABLE_FUNCTIONS
from softquery.services.sql_model_calls import model_calls, resolve_calls, run_model_calls
from softquery.services.sql_names import named_errors
from softquery.services.sql_predict import predict_table
from softquery.services.sql_rows import (
    DuckEnv,
    read_source,
    source_url,
    sqlglot_dialect,
    table_names,
)
from softquery.services.sql_session import Session
from softquery.sql.dialect import MLFunction
from softquery.sql.statements import ModelRef, Statement

# the planner's own functions (``sql_queries``), handed down so that no module imports it back
Evaluate = Callable[[Session, Statement, exp.Expr, str | None], pa.Table]
Plan = Callable[[Session, exp.Expr], str]


def _offset(statement: Statement, name: str, after: str | None = None) -> int:
    tokens = statement.where.tokens
    for i, token in enumerate(tokens):
        if token.text.strip('`"').lower() == name.lower() and (
                after is None or (i > 0 and tokens[i - 1].text.upper() == after)):
            return int(token.start)
    return statement.where.offset


def model_ref(statement: Statement, node: MLFunction) -> ModelRef:
    model = node.args["model"]
    return ModelRef(name=model.name, source=model.db or None, offset=_offset(statement, model.name, "MODEL"))


def ml_table(session: Session, statement: Statement, node: MLFunction, source: str | None,
             evaluate: Evaluate) -> pa.Table:
    """What one ML function answers, as a table."""
    name = node.name.upper()
    if name != "PREDICT":
        function = TABLE_FUNCTIONS.get(name)
        if function is None:
            raise statement.where.error(f"ML.{name} is not supported yet.", _token(statement, name),
                                        name=name, known=["PREDICT", *TABLE_FUNCTIONS], what="function")
        session.input_rows = lambda st, given: input_rows(session, st, given, source or session.source, evaluate)
        return function(session, statement, node)
    ref = model_ref(statement, node)
    given = node.args.get("expression")
    if given is None:
        raise statement.where.error("ML.PREDICT needs its rows: ML.PREDICT(MODEL m, (SELECT …)) or "
                                    "ML.PREDICT(MODEL m, TABLE t).", _token(statement, "PREDICT"))
    rows = input_rows(session, statement, given, source or _model_source(session, ref), evaluate)
    return predict_table(session, statement, ref, rows)


def _token(statement: Statement, text: str) -> Token | None:
    for token in statement.where.tokens:
        if token.text.upper() == text.upper():
            return token
    return None


def _model_source(session: Session, ref: ModelRef) -> str | None:
    if ref.source:
        return ref.source
    if session.source:
        return session.source
    try:
        return session.ctx.models.get(ref.name).source  # the model's own source reads its rows
    except NotFoundError:
        return None  # predict_table names the missing model


def input_rows(session: Session, statement: Statement, given: exp.Expr, source: str | None,
               evaluate: Evaluate) -> pa.Table:
    """The rows an ML function is given: ``TABLE t`` (script's or source's) or ``(SELECT …)``."""
    if isinstance(given, exp.Table) and isinstance(given.this, exp.Identifier):
        return _table_rows(session, statement, given, source)
    query = given.this if isinstance(given, exp.Subquery) else given
    return evaluate(session, statement, query, source)


def _table_rows(session: Session, statement: Statement, table: exp.Table, source: str | None) -> pa.Table:
    mine = {n.lower(): n for n in session.tables}
    if not table.db and table.name.lower() in mine:
        found: pa.Table = session.tables[mine[table.name.lower()]]
        return found
    url = source_url(session, statement, table.db or source)
    bare = exp.Table(this=table.this.copy())
    sql = exp.select("*").from_(bare).sql(dialect=sqlglot_dialect(url))
    return named_errors(session, statement, lambda: read_source(session, url, sql, f"Table {table.name}"))


def run_in_duckdb(session: Session, statement: Statement, tree: exp.Expr, source: str | None,
                  evaluate: Evaluate, plan: Plan) -> pa.Table:
    tree = tree.copy()
    with DuckEnv() as env:
        registered: set[str] = set()
        while (node := next(tree.find_all(MLFunction), None)) is not None:
            name = env.register(ml_table(session, statement, node, source, evaluate), node.name.lower())
            registered.add(name)
            node.replace(exp.Table(this=exp.to_identifier(name), alias=node.args.get("alias")))
        _materialise_calls(session, statement, tree, env, registered, source, evaluate)
        _push_down(session, statement, tree, env, registered, source, evaluate, plan)
        for table in table_names(tree):
            if table.name in registered:
                continue
            name = env.register(_table_rows(session, statement, table, source), table.name.lower())
            registered.add(name)
            alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(table.name))
            table.replace(exp.Table(this=exp.to_identifier(name), alias=alias))
        calls = [n for n in model_calls(session, tree) if n.find_ancestor(exp.Select) is tree]
        select = tree
        if calls and isinstance(select, exp.Select):
            resolved = resolve_calls(session, statement, calls)
            chunk = session.ctx.settings.chunk_rows
            return named_errors(session, statement, lambda: run_model_calls(
                session, statement, select, resolved, lambda sql: _stream(env, sql, chunk), "duckdb"), env.columns)
        return named_errors(session, statement, lambda: env.query(select.sql(dialect="duckdb")), env.columns)


@contextlib.contextmanager
def _stream(env: DuckEnv, sql: str, chunk: int) -> Iterator[Iterator[pa.RecordBatch]]:
    yield env.stream(sql, chunk)


def _materialise_calls(session: Session, statement: Statement, tree: exp.Expr, env: DuckEnv,
                       registered: set[str], source: str | None, evaluate: Evaluate) -> None:
    """Subqueries and CTEs whose own SELECT calls a model: computed, then read from DuckDB."""
    while True:
        calls = [n for n in model_calls(session, tree) if n.find_ancestor(exp.Select) is not tree]
        if not calls:
            return
        # the outermost SELECT (not ``tree`` itself) with a call of its own: a subquery's, a CTE's,
        # a UNION's branch — computed, then read back as a table of the DuckDB
        owners = [c.find_ancestor(exp.Select) for c in calls]
        holder = next(part for part in tree.find_all(exp.Select) if any(part is o for o in owners))
        rows = evaluate(session, statement, holder, source)
        name = env.register(rows, "sub")
        registered.add(name)
        holder.replace(exp.select("*").from_(exp.to_table(name)))


def _push_down(session: Session, statement: Statement, tree: exp.Expr, env: DuckEnv,
               registered: set[str], source: str | None, evaluate: Evaluate, plan: Plan) -> None:
    """A derived table (``FROM (SELECT …) AS s``) that only reads the source runs on the source."""
    for part in list(tree.find_all(exp.Subquery)):
        if isinstance(part.parent, exp.From | exp.Join) and part.find_ancestor(exp.Subquery) is None \
                and not any(t.name in registered for t in table_names(part.this)) \
                and plan(session, part.this) == "source":
            name = env.register(evaluate(session, statement, part.this, source), "sub")
            registered.add(name)
            part.set("this", exp.select("*").from_(exp.to_table(name)))
