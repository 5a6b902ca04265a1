"""MLSQL statements: load, train, register, predict, save, set (and select over script tables).

Permissions are the REST equivalents': viewers load, select and predict (into a script
table, like ML.PREDICT); editors train (create or change their own model), register (their
own model) and save. Every statement
that changes something is audited with its text (``session.audit``). Options with no
meaning here are accepted and named in the result's notes, never silently.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa

from softquery.auth.policy import Action
from softquery.domain import Run, RunStatus, TaskType
from softquery.errors import SoftqueryError
from softquery.identifiers import check_identifier
from softquery.services.model_selection import OBJECTIVE_NAMES
from softquery.services.sql_file_formats import (
    FILE_FORMATS,
    READ_OPTIONS,
    header_notes,
    ignored_options,
    read_file,
    write_file,
)
from softquery.services.sql_functions import model_called, register_function
from softquery.services.sql_mlsql_code import BUILTINS, builtin_code, builtin_search_configs
from softquery.services.sql_mlsql_train import (
    LOWER_IS_BETTER,
    Plan,
    candidate_code,
    loaded_from,
    model_name_of,
    plan,
    require_train,
    run_failed,
    save_model,
    store_data,
    train_candidate,
    train_result,
)
from softquery.services.sql_queries import table_result
from softquery.services.sql_results import Link, StatementResult
from softquery.services.sql_rows import read_source
from softquery.services.sql_save_table import save_table, with_model
from softquery.services.sql_session import Handler, Session
from softquery.services.versions import activate_version, get_version
from softquery.sql.statements import (
    Load,
    ModelRef,
    Predict,
    Register,
    Save,
    SetVariable,
    Statement,
    Train,
)


def message(verb: str, text: str, notes: list[str] | None = None, links: list[Link] | None = None) -> StatementResult:
    return StatementResult(0, 0, 0, verb, "message", message=text, notes=notes or [], links=links or [])


def script_table(session: Session, statement: Statement, name: str) -> pa.Table:
    table = session.tables.get(name)
    if table is None:
        token = next((t for t in statement.where.tokens if t.text == name), None)
        raise statement.where.error(f"There is no table {name!r} in this script; make it first with "
                                    f"load … as {name} or select … as {name}.", token, name=name,
                                    known=list(session.tables), what="table")
    return table


def keep(session: Session, name: str, table: pa.Table) -> None:
    session.tables[check_identifier(name, "table name")] = table


def _token(statement: Statement, text: str) -> Any:
    return next((t for t in statement.where.tokens if t.text == text), None)


# --- load and select ---------------------------------------------------------------------

def run_load(session: Session, statement: Statement) -> StatementResult:
    assert isinstance(statement, Load)
    session.require(statement, Action.READ)
    fmt = statement.format.lower()
    if fmt in FILE_FORMATS:
        table = read_file(session.ctx, fmt, statement.path, statement.options)
        notes = ignored_options(statement.options, READ_OPTIONS[fmt], f"load {fmt}") + header_notes(
            fmt, table, statement.options)
        what = f"file {statement.path}"
    else:
        table, notes, what = _load_source(session, statement)
    keep(session, statement.table, table)
    return message("load", f"table {statement.table}: {table.num_rows:,} rows, {table.num_columns} columns "
                   f"from {what}", notes)


def _load_source(session: Session, statement: Load) -> tuple[pa.Table, list[str], str]:
    names = [s.name for s in session.ctx.sources.list()]
    if statement.format not in names:
        token = statement.where.tokens[1]
        raise statement.where.error(f"{statement.format!r} is neither a file format ({', '.join(FILE_FORMATS)}) "
                                    "nor a data source.", token, name=statement.format,
                                    known=[*FILE_FORMATS, *names], what="format or source")
    table_name = check_identifier(statement.path, "table name")
    url = session.ctx.sources.get(statement.format).url
    quoted = '"' + table_name + '"'  # a checked identifier
    try:  # read-only, bounded like every source table a statement reads (sql_rows.MAX_SOURCE_ROWS)
        table = read_source(session, url, f"select * from {quoted}", f"Table {table_name}")  # noqa: S608
    except SoftqueryError as exc:
        if exc.code == "too_many_rows":
            raise
        raise statement.where.error(f"Table {table_name} of source {statement.format} cannot be read: "
                                    f"{exc.message}", _token(statement, statement.path)) from None
    return loaded_from(table, statement.format, table_name), ignored_options(statement.options, (), "load from a "
                                                                            "source"), \
        f"table {table_name} of source {statement.format}"


# --- train ---------------------------------------------------------------------------------

def run_train(session: Session, statement: Statement) -> StatementResult:
    assert isinstance(statement, Train)
    table = script_table(session, statement, statement.table)
    chosen = plan(statement, table)
    require_train(session, statement, chosen.name)  # before anything is written
    code_of = [candidate_code(session, statement, chosen.name, dict(c), chosen.label) for c in chosen.candidates]
    data = store_data(session, chosen.name, table.select([*chosen.features, *([chosen.label] if chosen.label
                                                                                 else [])]))
    runs: list[Run] = []
    several = len(chosen.candidates) > 1
    if several and _searched(statement):
        return _train_search(session, statement, chosen, data)
    for number, (template, code) in enumerate(code_of):
        save_model(session, statement, chosen, data, template, code)
        run = train_candidate(session, chosen.name, wait=session.wait or several)
        session.audit(statement, "model.train", "model", chosen.name, {"run": run.id, "candidate": number})
        if run.status.finished and run.status is not RunStatus.SUCCEEDED:
            raise run_failed(statement, chosen.name, run, runs)
        runs.append(run)
    if not all(r.status is RunStatus.SUCCEEDED for r in runs):
        return train_result(chosen.name, runs, None, None, None, chosen.notes, "")
    active, metric, score, how = _select(session, statement, chosen, [int(r.result["train"]["version"]) for r in runs])
    return train_result(chosen.name, runs, active, metric, score, chosen.notes, how)


def _searched(statement: Train) -> bool:
    """Several fitParam groups of a built-in algorithm, with no table to score them on: one search."""
    options = {k.lower() for k in statement.options}
    return statement.algorithm.lower() in BUILTINS and not options & {"evaluatetable", "validatetable"}


def _train_search(session: Session, statement: Train, chosen: Plan, data: tuple[str, str]) -> StatementResult:
    """The fitParam groups as one search's configurations: one run, one version, the best group."""
    search: dict[str, Any] = {"method": "grid",
                              "configs": builtin_search_configs(statement.algorithm, chosen.candidates)}
    asked = next((str(o.value) for k, o in statement.options.items() if k.lower() == "autoselectbymetric"), None)
    if asked and asked.lower() in OBJECTIVE_NAMES:
        search["objective"] = OBJECTIVE_NAMES[asked.lower()]
    elif asked:
        chosen.notes.append(f"autoSelectByMetric {asked!r} is not a cross-validation metric: the groups are "
                            "compared by the task's key metric")
    template, code = builtin_code(statement.algorithm, {})
    save_model(session, statement, chosen, data, template, code, search=search)
    run = train_candidate(session, chosen.name, wait=True)
    session.audit(statement, "model.train", "model", chosen.name, {"run": run.id, "candidates": len(chosen.candidates)})
    if run.status is not RunStatus.SUCCEEDED:
        raise run_failed(statement, chosen.name, run, [])
    number = int(run.result["train"]["version"])
    selection = session.ctx.versions.get(chosen.name, number).manifest.get("selection") or {}
    best: dict[str, Any] = next((t for t in selection.get("trials", []) if t["number"] == selection.get("chosen")), {})
    score = f", CV {selection.get('objective')} {best['cv_mean']:.4g}" if best.get("cv_mean") is not None else ""
    message = (f"model {chosen.name}: {len(chosen.candidates)} fitParam groups searched by cross-validation; "
               f"version {number} trained with group {int(selection.get('chosen', 1)) - 1}{score}")
    links = [Link("model", model=chosen.name), Link("run", model=chosen.name, run_id=run.id),
             Link("version", model=chosen.name, version=number)]
    return StatementResult(0, 0, 0, "train", "run", message=message, run_id=run.id, run_status=run.status.value,
                           links=links, notes=chosen.notes)


def _select(session: Session, statement: Train, chosen: Plan, versions: list[int]
            ) -> tuple[int, str | None, float | None, str]:
    """Activate the best version (module doc of sql_mlsql_train); (version, metric, score, how)."""
    ctx = session.ctx
    options = {k.lower(): o.value for k, o in statement.options.items()}
    table_name = options.get("evaluatetable") or options.get("validatetable")
    asked = str(options["autoselectbymetric"]) if options.get("autoselectbymetric") else None
    metric = asked
    scores: dict[int, float | None] = {}
    for number in versions:
        version = ctx.versions.get(chosen.name, number)
        task = TaskType(str(version.manifest.get("task")))
        name = asked or task.key_metric
        if table_name:
            activate_version(ctx, chosen.name, number)  # predict_table predicts with the active version
            values = _evaluate(session, statement, chosen, str(table_name), task)
        else:
            values = version.metrics
        value = values.get(name)
        if value is None and asked is None:
            scores[number] = None  # the task's metric was not measured (e.g. one cluster): by recency
            continue
        if value is None:
            raise statement.where.error(f"autoSelectByMetric {name!r} is not a metric of version {number}; "
                                        f"its metrics: {', '.join(sorted(values))}.")
        scores[number] = float(value) if isinstance(value, int | float) and not math.isnan(value) else None
        metric = name
    lower = (metric or "").lower() in LOWER_IS_BETTER
    ranked = [v for v in versions if scores[v] is not None]
    best = versions[-1] if not ranked else (min if lower else max)(ranked, key=lambda v: scores[v] or 0.0)
    if ctx.models.get(chosen.name).active_version != best:
        activate_version(ctx, chosen.name, best)
    how = f"on table {table_name}" if table_name else "on the holdout rows"
    return best, metric, scores.get(best), how


def _evaluate(session: Session, statement: Train, chosen: Plan, table_name: str, task: TaskType) -> dict[str, Any]:
    from softquery.services.sql_predict import predict_table
    from softquery.training.metrics import classification_metrics, regression_metrics

    table = script_table(session, statement, table_name)
    missing = [c for c in [*chosen.features, chosen.label] if c and c not in table.schema.names]
    if missing:
        raise statement.where.error(f"The evaluate table {table_name} has no column {missing[0]!r}; the model "
                                    f"reads {', '.join(chosen.features)} and its label {chosen.label}.")
    predicted = predict_table(session, statement, ModelRef(chosen.name, None, statement.where.offset),
                              table.select(chosen.features))
    label = chosen.label
    if label is None:
        raise statement.where.error("evaluateTable needs a label (labelCol) to score the candidates on.")
    column = next(n for n in predicted.schema.names if n.startswith("predicted_") and not n.endswith("_probs"))
    y_true = np.asarray(table.column(label).to_pylist())
    y_pred = np.asarray(predicted.column(column).to_pylist())
    if task is TaskType.REGRESSION:
        return regression_metrics(y_true, y_pred)
    classes = sorted({*y_true.tolist(), *y_pred.tolist()}, key=str)
    return classification_metrics(y_true, y_pred, None, classes)


# --- register, predict, save, set ----------------------------------------------------------

def _model(session: Session, statement: Statement, written: str) -> str:
    name = model_called(session.ctx, model_name_of(written))
    if session.ctx.models.find(name) is None:
        token = next((t for t in statement.where.tokens if t.text == written), None)
        raise statement.where.error(f"There is no model {name!r} (from {written!r}); train it first.", token,
                                    name=name, known=[m.name for m in session.ctx.models.list()],
                                    what="model") from None
    return name


def run_register(session: Session, statement: Statement) -> StatementResult:
    assert isinstance(statement, Register)
    name = _model(session, statement, statement.model)
    model = session.ctx.models.get(name)
    session.require(statement, Action.CHANGE_MODEL, model=name, owner_id=model.owner_id)
    function = check_identifier(statement.function, "function name").lower()
    notes = [f"option {key} is ignored: the model predicts with its version's own code"
             if key.lower() == "pythonscriptpath" else f"option {key} has no meaning in softquery and is ignored"
             for key in statement.options]
    previous = register_function(session.ctx, function, name)
    session.functions[function] = name
    session.audit(statement, "function.register", "model", name, {"function": function, "previous": previous})
    return message("register", f"function {function}(…) calls model {name} (its active version)", notes,
                   [Link("model", model=name)])


def run_predict(session: Session, statement: Statement) -> StatementResult:
    assert isinstance(statement, Predict)
    from softquery.services.sql_predict import predict_table

    table = script_table(session, statement, statement.table)
    name = _model(session, statement, statement.model)
    offset = next((t.start for t in statement.where.tokens if t.text == statement.model), statement.where.offset)
    predicted = predict_table(session, statement, ModelRef(name, None, offset), table)
    if statement.output:
        keep(session, statement.output, with_model(predicted, name))
    result = table_result(session, "predict", predicted)
    version = get_version(session.ctx, name).version
    kept = f"table {statement.output}: " if statement.output else ""
    result.message = f"{kept}{predicted.num_rows:,} rows predicted by model {name} version {version}"
    result.links = [Link("version", model=name, version=version)]
    return result


def run_save(session: Session, statement: Statement) -> StatementResult:
    assert isinstance(statement, Save)
    table = script_table(session, statement, statement.table)
    session.require(statement, Action.EDIT)
    mode = statement.mode.lower()
    if statement.format == "table":
        return save_table(session, statement, table)
    written = write_file(session.ctx, statement.format, statement.target, table, mode, statement.options)
    notes = ignored_options(statement.options, ("header", "delimiter", "sep"), f"save {statement.format}")
    if not written:
        return message("save", f"file {statement.target} exists; ignore kept it", notes)
    session.audit(statement, "file.save", "file", statement.target, {"rows": table.num_rows, "mode": mode})
    return message("save", f"file {statement.target}: {table.num_rows:,} rows written", notes)


def run_set(session: Session, statement: Statement) -> StatementResult:
    assert isinstance(statement, SetVariable)
    session.variables[statement.name] = statement.value
    return message("set", f"{statement.name} = {statement.value!r}")


HANDLERS: dict[type[Statement], Handler] = {
    Load: run_load, Train: run_train, Register: run_register, Predict: run_predict, Save: run_save,
    SetVariable: run_set,
}
