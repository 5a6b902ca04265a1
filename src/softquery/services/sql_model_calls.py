"""Model calls inside an ordinary SELECT: ``select id, house_quality(price, rooms) as q from houses``.

A call names a model (or a function an MLSQL ``register`` made) and answers the active
version's prediction for its row (the predicted class, for a classifier).

**How arguments map onto features.** Positional arguments are the version's features in
the order it was trained on (``softquery versions show`` lists them); a named argument
``feature => expression`` gives one feature by its name; positional ones come first. Every
feature must be given exactly once: ``m(price, rooms => r)``.

**The fast path.** The query goes to the source with each call replaced by its argument
expressions (``price AS _sq_a0_0, …``), so WHERE, JOIN, GROUP BY, ORDER BY and LIMIT run
where the data is; the batches stream to one sandboxed child per model and the predictions
are put where the calls stood. A call may stand in the SELECT list, also inside an
expression (``round(m(x), 2)``), and ORDER BY may name it; a call in WHERE, GROUP BY,
HAVING, JOIN or inside an aggregate is refused with the subquery to write instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlglot import exp

from softquery.errors import NotFoundError
from softquery.services.sql_model_child import ModelChild
from softquery.services.sql_predict import PreparedModel, check_columns, concatenated, prepare_model
from softquery.services.sql_rows import DuckEnv
from softquery.services.sql_session import Session
from softquery.sql.statement_errors import SqlError
from softquery.sql.statements import ModelRef, Statement

Stream = Callable[[str], contextlib.AbstractContextManager[Iterator[pa.RecordBatch]]]
ARG = "_sq_a{call}_{arg}"
PRED = "_sq_p{call}"


@dataclass
class Call:
    node: exp.Anonymous
    written: str
    model: PreparedModel
    args: list[exp.Expr] = field(default_factory=list)  # in the version's feature order


def callable_names(session: Session) -> dict[str, str]:
    """lower-case name -> model: registered functions (kept), every model, then this script's registrations."""
    from softquery.services.sql_functions import (
        registered_functions,  # MLSQL's register … as fn, kept
    )

    names = dict(registered_functions(session.ctx))
    names.update({m.name.lower(): m.name for m in session.ctx.models.list()})
    names.update({fn.lower(): model for fn, model in session.functions.items()})
    return names


def model_calls(session: Session, tree: exp.Expr, names: dict[str, str] | None = None) -> list[exp.Anonymous]:
    names = callable_names(session) if names is None else names
    return [node for node in tree.find_all(exp.Anonymous) if str(node.this).lower() in names]


def call_offset(statement: Statement, name: str, nth: int = 0) -> int:
    """Where the ``nth`` call ``name(`` is in the script (the statement's start if not found)."""
    tokens = statement.where.tokens
    seen = 0
    for i, token in enumerate(tokens[:-1]):
        if token.text.lower() == name.lower() and tokens[i + 1].text == "(":
            if seen == nth:
                return int(token.start)
            seen += 1
    return statement.where.offset


def _error(statement: Statement, message: str, offset: int, **kwargs: Any) -> SqlError:
    from softquery.sql.statement_errors import sql_error

    return sql_error(message, statement.where.script, offset, **kwargs)


def resolve_calls(session: Session, statement: Statement, nodes: list[exp.Anonymous]) -> list[Call]:
    names = callable_names(session)
    prepared: dict[str, PreparedModel] = {}
    calls: list[Call] = []
    counts: dict[str, int] = {}
    for node in nodes:
        written = str(node.this)
        nth = counts.get(written.lower(), 0)
        counts[written.lower()] = nth + 1
        offset = call_offset(statement, written, nth)
        model_name = names[written.lower()]
        if model_name not in prepared:
            try:
                prepared[model_name] = prepare_model(session, statement, ModelRef(model_name, None, offset))
            except NotFoundError:
                raise _error(statement, f"The function {written} names model {model_name!r}, which no longer "
                             "exists.", offset) from None
        call = Call(node, written, prepared[model_name])
        call.args = _mapped(statement, call, offset)
        calls.append(call)
    return calls


def _mapped(statement: Statement, call: Call, offset: int) -> list[exp.Expr]:
    """The call's arguments in feature order (see the module docstring)."""
    features = call.model.feature_names
    given: dict[str, exp.Expr] = {}
    positional = [a for a in call.node.expressions if not isinstance(a, exp.Kwarg | exp.PropertyEQ)]
    named = [a for a in call.node.expressions if isinstance(a, exp.Kwarg | exp.PropertyEQ)]
    if call.node.expressions and call.node.expressions[:len(positional)] != positional:
        raise _error(statement, f"{call.written}(…): give positional arguments first, then name => value ones.",
                     offset)
    if len(positional) > len(features):
        raise _error(statement, f"{call.written}(…) has {len(positional)} arguments, but {call.model.describe()} "
                     f"takes {len(features)} features: {', '.join(features)} (in this order, or by name: "
                     f"{call.written}({features[0]} => …)).", offset)
    for feature, arg in zip(features, positional, strict=False):
        given[feature] = arg
    for arg in named:
        name = arg.this.name
        if name not in features:
            raise _error(statement, f"{call.model.describe()} has no feature named {name!r}.", offset,
                         name=name, known=features, what="feature")
        if name in given:
            raise _error(statement, f"{call.written}(…) gives the feature {name!r} twice.", offset)
        given[name] = arg.expression
    missing = [f for f in features if f not in given]
    if missing:
        raise _error(statement, f"{call.written}(…) does not give the feature(s) {', '.join(missing)}; "
                     f"{call.model.describe()} takes {len(features)}: {', '.join(features)} (in this order, or "
                     f"by name: {missing[0]} => …).", offset, extra={"features": features})
    return [given[f] for f in features]


def check_placement(statement: Statement, select: exp.Select, calls: list[Call]) -> None:
    """A call may stand in the SELECT list (and ORDER BY); elsewhere it is refused with a way out."""
    items = set(map(id, select.expressions))
    for call in calls:
        offset = call_offset(statement, call.written)
        node: exp.Expr | None = call.node.parent
        inside_item = id(call.node) in items
        while node is not None and node is not select:
            if isinstance(node, exp.AggFunc):
                raise _error(statement, f"A model call cannot stand inside an aggregate. Predict in a "  # noqa: S608
                             f"subquery, then aggregate: select avg(p) from (select {call.written}(…) as p "
                             "from …) as s.", offset)
            if isinstance(node, exp.Anonymous) and node in {c.node for c in calls}:
                raise _error(statement, "A model call cannot take another model call's result; predict in a "
                             "subquery first.", offset)
            if id(node) in items:
                inside_item = True
            if isinstance(node, exp.Where | exp.Group | exp.Having | exp.Join | exp.From | exp.Subquery):
                part = type(node).__name__.upper().replace("GROUP", "GROUP BY")
                raise _error(statement, f"A model call cannot stand in {part}. Predict in a subquery and "  # noqa: S608
                             f"filter outside it: select * from (select …, {call.written}(…) as p from …) as s "
                             "where p > …", offset)
            node = node.parent
        if not inside_item and not _in_order(call.node, select):
            raise _error(statement, "A model call stands in the SELECT list or ORDER BY only.", offset)


def _in_order(node: exp.Expr, select: exp.Select) -> bool:
    order = select.args.get("order")
    return order is not None and any(n is node for n in order.find_all(exp.Anonymous))


def run_model_calls(session: Session, statement: Statement, select: exp.Select, calls: list[Call],
                    stream: Stream, dialect: str) -> pa.Table:
    """The fast path: the source runs the query with the calls replaced by their arguments."""
    check_placement(statement, select, calls)
    pushed = select.copy()
    pushed_calls = [n for n in pushed.find_all(exp.Anonymous) if any(n == c.node for c in calls)]
    out_names = _output_names(select, calls)
    deferred = _deferred(select, calls, out_names)
    if deferred:
        for key in ("order", "limit", "offset", "distinct"):
            pushed.set(key, None)
    items: list[exp.Expr] = []
    for item in pushed.expressions:
        if not any(c in pushed_calls for c in item.find_all(exp.Anonymous)):
            items.append(item)
    plain = len(items)
    for k, call in enumerate(calls):
        items += [exp.alias_(arg.copy(), ARG.format(call=k, arg=j)) for j, arg in enumerate(call.args)]
    pushed.set("expressions", items)
    sql = pushed.sql(dialect=dialect)
    with stream(sql) as batches:
        rows = iter(batches)
        first = next(rows)  # the first batch (maybe empty) has the schema: the arguments' types fit
        _check_types(statement, calls, first.schema)
        with _children(calls) as children:
            out = [_predicted(first, calls, children)]
            out += [_predicted(batch, calls, children) for batch in rows]
            for child in children.values():
                child.finish()
    table = concatenated(out)
    return _finish(select, calls, table, plain, out_names, deferred)


def _check_types(statement: Statement, calls: list[Call], schema: pa.Schema) -> None:
    for k, call in enumerate(calls):
        fields = [schema.field(ARG.format(call=k, arg=j)).with_name(name)
                  for j, name in enumerate(call.model.feature_names)]
        check_columns(statement, call.model, pa.schema(fields), call_offset(statement, call.written))


@contextlib.contextmanager
def _children(calls: list[Call]) -> Iterator[dict[str, ModelChild]]:
    with contextlib.ExitStack() as stack:
        children: dict[str, ModelChild] = {}
        for call in calls:
            model = call.model
            if model.name not in children:
                children[model.name] = stack.enter_context(ModelChild(model.spec, model.limits, model.describe()))
        yield children


def _predicted(batch: pa.RecordBatch, calls: list[Call], children: dict[str, ModelChild]) -> pa.RecordBatch:
    plain = batch.num_columns - sum(len(c.args) for c in calls)  # the arguments are not kept
    arrays = list(batch.columns[:plain])
    names = list(batch.schema.names[:plain])
    for k, call in enumerate(calls):
        args = [ARG.format(call=k, arg=j) for j in range(len(call.args))]
        features = pa.RecordBatch.from_arrays([batch.column(a) for a in args], names=call.model.feature_names)
        if batch.num_rows:
            preds, _ = children[call.model.name].predict(features)
            from softquery.services.sql_predict import prediction_arrays

            arrays.append(prediction_arrays(call.model, preds, None)[0][1])
        else:
            arrays.append(pa.array([], type=pa.float64()))
        names.append(PRED.format(call=k))
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _output_names(select: exp.Select, calls: list[Call]) -> list[str | None]:
    """Per SELECT item holding calls: its output name (alias, or the function's name); None: no calls."""
    call_nodes = [c.node for c in calls]
    names: list[str | None] = []
    for item in select.expressions:
        inner = [n for n in item.find_all(exp.Anonymous) if any(n is c for c in call_nodes)]
        if not inner:
            names.append(None)
        elif isinstance(item, exp.Alias):
            names.append(item.alias)
        else:
            names.append(str(inner[0].this))
    return names


def _deferred(select: exp.Select, calls: list[Call], out_names: list[str | None]) -> bool:
    """ORDER BY or DISTINCT needs the predictions: they run after them (in DuckDB)."""
    if any(n is not None for n in out_names) and select.args.get("distinct") is not None:
        return True
    order = select.args.get("order")
    if order is None:
        return False
    aliases = {n.lower() for n in out_names if n}
    if any(any(n is c.node for c in calls) for n in order.find_all(exp.Anonymous)):
        return True
    return any(col.name.lower() in aliases and not col.table for col in order.find_all(exp.Column))


def _finish(select: exp.Select, calls: list[Call], table: pa.Table, plain: int,
            out_names: list[str | None], deferred: bool) -> pa.Table:
    """The answer's columns in the SELECT's order: the source's columns and the predictions."""
    simple = all(_is_bare_call(item, calls) for item, name in zip(select.expressions, out_names, strict=True)
                 if name is not None)
    plain_columns = table.num_columns - len(calls)  # then one column of predictions per call
    stars = sum(1 for item, name in zip(select.expressions, out_names, strict=True)
                if name is None and _is_star(item))
    if simple and not deferred and stars <= 1:
        return _assembled(select, calls, table, plain_columns, out_names)
    return _in_duckdb(select, calls, table, plain_columns, out_names)


def _is_bare_call(item: exp.Expr, calls: list[Call]) -> bool:
    inner = item.this if isinstance(item, exp.Alias) else item
    return any(inner is c.node for c in calls)


def _assembled(select: exp.Select, calls: list[Call], table: pa.Table, plain_columns: int,
               out_names: list[str | None]) -> pa.Table:
    width_of_star = plain_columns - sum(1 for item, name in zip(select.expressions, out_names, strict=True)
                                        if name is None and not _is_star(item))
    arrays: list[Any] = []
    names: list[str] = []
    col = 0
    pred_base = plain_columns
    taken: set[str] = set()
    for item, name in zip(select.expressions, out_names, strict=True):
        if name is None:
            width = width_of_star if _is_star(item) else 1
            for i in range(col, col + width):
                arrays.append(table.column(i))
                names.append(table.schema.names[i])
                taken.add(names[-1].lower())
            col += width
        else:
            inner = item.this if isinstance(item, exp.Alias) else item
            k = next(i for i, c in enumerate(calls) if c.node is inner)
            arrays.append(table.column(pred_base + k))
            unique, n = name, 2
            while unique.lower() in taken:
                unique, n = f"{name}_{n}", n + 1
            names.append(unique)
        taken.add(names[-1].lower())
    return pa.Table.from_arrays(arrays, names=names)


def _is_star(item: exp.Expr) -> bool:
    return isinstance(item, exp.Star) or (isinstance(item, exp.Column) and isinstance(item.this, exp.Star))


def _in_duckdb(select: exp.Select, calls: list[Call], table: pa.Table, plain_columns: int,
               out_names: list[str | None]) -> pa.Table:
    """Items that compute with a prediction, ORDER BY or DISTINCT over predictions: DuckDB over the rows."""
    final = select.copy()
    for node in [n for n in final.find_all(exp.Anonymous) if any(n == c.node for c in calls)]:
        k = next(i for i, c in enumerate(calls) if c.node == node)
        node.replace(exp.column(PRED.format(call=k), quoted=True))
    source_names = table.schema.names[:plain_columns]
    stars = sum(1 for item, name in zip(final.expressions, out_names, strict=True)
                if name is None and _is_star(item))
    star_width = plain_columns - sum(1 for item, name in zip(final.expressions, out_names, strict=True)
                                     if name is None and not _is_star(item))
    if stars > 1:
        star_width = 0
    items: list[exp.Expr] = []
    col = 0
    for item, name in zip(final.expressions, out_names, strict=True):
        if name is not None:
            items.append(item if isinstance(item, exp.Alias) else exp.alias_(item, name, quoted=True))
            continue
        width = star_width if _is_star(item) else 1
        for i in range(col, col + width):
            items.append(exp.alias_(exp.column(f"_sq_c{i}", quoted=True), source_names[i], quoted=True))
        col += width
    final.set("expressions", items)
    renamed = table.rename_columns([f"_sq_c{i}" if i < plain_columns else name
                                    for i, name in enumerate(table.schema.names)])
    with DuckEnv() as env:
        name = env.register(renamed, "rows")
        final.set("from_", exp.From(this=exp.to_table(name)))
        for key in ("joins", "where", "group", "having", "with"):
            final.set(key, None)
        return env.query(final.sql(dialect="duckdb"))
