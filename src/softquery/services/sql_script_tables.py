"""A script's own tables (MLSQL's ``load … as t``, ``select … as t``, ``predict … as t``).

They live in ``session.tables`` (name -> ``pyarrow.Table``) for the script's run only. A
SELECT over them runs in an in-process DuckDB that sees those Arrow tables and nothing
else: ``enable_external_access`` is off and the configuration locked, so no
``read_csv('/etc/passwd')``, no ATTACH, no httpfs. The vector helpers MLSQL's examples
use are macros there: ``vec_dense(v)`` (a vector as a list of doubles), ``vec_size(v)``,
``vec_at(v, i)`` (0-based, like Spark's vectors) and ``vec_array(v)``.

A model call — a model's name, or a function made with ``register … as fn`` (``select
fn(features) from t``) — is computed before the query: its arguments are evaluated over the FROM table, the model's
active version predicts them in an isolated child (``sql_predict.predict_table``) and the
call is replaced by that column.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from sqlglot import exp

from softquery.errors import InvalidInputError
from softquery.services.sql_session import Session
from softquery.sql.statement_errors import sql_error
from softquery.sql.statements import ModelRef, Statement

MACROS = (
    "create macro vec_dense(v) as cast(v as double[])",
    "create macro vec_array(v) as cast(v as double[])",
    "create macro vec_size(v) as len(v)",
    "create macro vec_at(v, i) as cast(v[i + 1] as double)",
)
_CALL = "__sq_call_{}"
ONE_TABLE = ("call it in a SELECT that reads one table of the script (select fn(features) from t …); "
             "join first (select … from a join b … as t), then call it over t.")


@contextlib.contextmanager
def script_database(tables: dict[str, pa.Table]) -> Iterator[Any]:
    """An in-memory DuckDB with ``tables`` registered and external access off (locked)."""
    import duckdb

    conn = duckdb.connect(":memory:", config={"enable_external_access": False, "threads": 1})
    try:
        for macro in MACROS:
            conn.execute(macro)
        conn.execute("set lock_configuration = true")
        for name, table in tables.items():
            conn.register(name, table)
        yield conn
    finally:
        conn.close()


def run_on_script_tables(session: Session, statement: Statement, expression: exp.Expr) -> pa.Table:
    """``expression`` (a query over the script's tables) run over them; model calls predicted first."""
    tables = dict(session.tables)
    expression = _predict_calls(session, statement, expression, tables)
    sql = expression.sql(dialect="duckdb")
    limit = session.ctx.settings.statement_timeout_seconds
    with script_database(tables) as conn:
        timer = threading.Timer(limit, conn.interrupt) if limit else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            return conn.sql(sql).to_arrow_table()
        except Exception as exc:  # noqa: BLE001 - DuckDB's errors are the user's SQL's
            message = str(exc).split("\n")[0]
            if "interrupt" in message.lower():
                message = f"it ran longer than {limit:g} s (SOFTQUERY_STATEMENT_TIMEOUT_SECONDS)"
            raise statement.where.error(f"The query over the script's tables failed: {message}",
                                        extra={"tables": sorted(tables)}) from None
        finally:
            if timer is not None:
                timer.cancel()


def _model_of(session: Session, name: str, names: dict[str, str] | None = None) -> str | None:
    from softquery.services.sql_model_calls import callable_names

    return (callable_names(session) if names is None else names).get(name.lower())


def _predict_calls(session: Session, statement: Statement, expression: exp.Expr,
                   tables: dict[str, pa.Table]) -> exp.Expr:
    """Each model call replaced by a column of its predictions, computed over the table the
    SELECT around it reads (that SELECT reads one table of the script; its ``*`` leaves the
    added columns out)."""
    from softquery.services.sql_model_calls import callable_names

    names = callable_names(session)
    if not any(_model_of(session, str(n.this), names) for n in expression.find_all(exp.Anonymous)):
        return expression
    expression = expression.copy()
    number = 0
    for call in [n for n in expression.find_all(exp.Anonymous) if _model_of(session, str(n.this), names)]:
        select = call.find_ancestor(exp.Select)
        source = select.args.get("from_") if select is not None else None
        read = source.this if source is not None else None
        if select is None or select.args.get("joins") or not isinstance(read, exp.Table) \
                or read.name not in session.tables:
            raise sql_error(f"{call.this}(…) calls a model; {ONE_TABLE}", statement.where.script,
                            _offset(statement, str(call.this)))
        name = f"__sq_table_{number}"
        column = _CALL.format(number)
        values = _call_values(session, statement, _model_of(session, str(call.this), names) or "", call,
                              read.name, session.tables[read.name])
        tables[name] = session.tables[read.name].append_column(column, values)
        alias = read.alias or read.name
        read.replace(exp.Table(this=exp.to_identifier(name), alias=exp.TableAlias(this=exp.to_identifier(alias))))
        call.replace(exp.column(column, table=alias))
        for star in select.expressions:
            if isinstance(star, exp.Star):
                star.set("except", [*(star.args.get("except") or []), exp.column(column)])
        number += 1
    return expression


def _call_values(session: Session, statement: Statement, model: str, call: exp.Anonymous,
                 table_name: str, base: pa.Table) -> pa.Array:
    """The prediction of ``model`` for every row of ``table_name``, from the call's arguments."""
    from softquery.services.sql_predict import predict_table
    from softquery.services.versions import get_version

    offset = _offset(statement, str(call.this))
    version = get_version(session.ctx, model)
    features = [f["name"] for f in version.manifest["data"]["features"]]
    label = version.manifest["data"].get("label") or "label"
    args = list(call.expressions)
    if len(args) != len(features):
        raise sql_error(f"{call.this}(…) calls model {model!r} (version {version.version}), which takes "
                        f"{len(features)} input column(s) ({', '.join(features)}); the call passes {len(args)}.",
                        statement.where.script, offset, extra={"features": features})
    projection = ", ".join(f"{arg.sql(dialect='duckdb')} as {exp.to_identifier(name).sql(dialect='duckdb')}"
                           for arg, name in zip(args, features, strict=True))
    with script_database({table_name: base}) as conn:
        try:
            rows = conn.sql(f"select {projection} from {table_name}").to_arrow_table()  # noqa: S608
        except Exception as exc:  # noqa: BLE001 - the user's argument expressions
            raise sql_error(f"The arguments of {call.this}(…) cannot be computed: {str(exc).splitlines()[0]}",
                            statement.where.script, offset) from None
    predicted = predict_table(session, statement, ModelRef(model, None, offset), rows)
    name = f"predicted_{label}"
    if name not in predicted.schema.names:
        raise InvalidInputError(f"Model {model!r} answered no {name} column.")
    return predicted.column(name).combine_chunks()


def _offset(statement: Statement, name: str) -> int:
    for token in statement.where.tokens:
        if token.text.lower() == name.lower():
            return int(token.start)
    return statement.where.offset
