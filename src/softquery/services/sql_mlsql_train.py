"""MLSQL's ``train t as ALG.`NAME` where …``: a model, its data, one run per candidate.

- **The model's name**: the backtick NAME's last path part, with every character other
  than letters, digits and ``_`` made ``_`` (``/tmp/model1`` → ``model1``,
  ``models/wine-v2`` → ``wine_v2``; a leading digit gets ``m_``).
- **Its data**: a script table lives only while the script runs, but a run (and a later
  retraining or batch prediction) reads its rows from a data source. So ``train`` writes
  the table into a DuckDB file in the files folder's hidden ``.mlsql`` folder
  (``.mlsql/<model>.duckdb``, table ``data``) and the model reads it through a source
  named ``mlsql_<model>``: a DuckDB source opened read-only with external access off, so it
  reads that file and nothing else. Its train query is ``select <features>, <label> from
  "data"`` (``featureCol``, ``labelCol``; default every column, label ``label``), its predict
  query the same without the label. A table ``load SOURCE.`t``` read (as it was read, not
  a select over it) needs no copy: the model reads ``t`` of that source itself, so a later
  retraining sees its new rows.
- **Candidates**: each ``fitParam.N.*`` group is one; they train one after another (a run
  reads the model's code when it starts), each a run and a version. softquery keeps every
  version (``keepVersion`` is always true here; "false" is reported). The best is then
  activated: by ``evaluateTable``/``validateTable`` (a script table: each version predicts
  it in an isolated child and is scored on its label) or by the versions' holdout metrics;
  the metric is ``autoSelectByMetric`` or the task's (r2, f1, silhouette).
- **Searched candidates**: the groups of a built-in algorithm (no ``evaluateTable`` /
  ``validateTable`` to score them on) are one hyperparameter search instead: the model's
  ``search`` lists them as configurations (``{"method": "grid", "configs": [...]}``), one run
  cross-validates each (``training/search.py``) and keeps the best as one version, with
  every group's CV score in its manifest; ``autoSelectByMetric`` is the objective when it is
  a cross-validation metric (r2, mae, rmse, accuracy, f1, ...).
- **Waiting**: one candidate is answered with its run's id when a server or a queue runs
  it and ``wait`` was not asked for; several candidates, ``wait``, or nobody else to run it
  (the CLI without a server): trained here, one after another (each in its job child).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from softquery.auth.policy import Action
from softquery.domain import Run, RunKind, RunStatus, RunTrigger, Via
from softquery.errors import InvalidInputError, NotFoundError, SoftqueryError
from softquery.identifiers import check_identifier
from softquery.services import models as model_service
from softquery.services.files import files_folder, resolve_file
from softquery.services.runs import execute_here, follow_run, pick_executor, start_run
from softquery.services.sources import add_source
from softquery.services.sql_file_formats import HIDDEN
from softquery.services.sql_mlsql_code import (
    BUILTINS,
    builtin_code,
    class_model_code,
    defines_model_class,
    wrapper_code,
)
from softquery.services.sql_results import Link, StatementResult
from softquery.services.sql_session import Session
from softquery.sql.statements import Option, Train

USED = ("pythonscriptpath", "keepversion", "featurecol", "labelcol", "validatetable", "evaluatetable",
        "autoselectbymetric", "datalocalformat")
LOWER_IS_BETTER = ("rmse", "mae", "mse", "log_loss", "logloss")


def model_name_of(written: str) -> str:
    """The model a backtick NAME stands for (module doc)."""
    last = [part for part in re.split(r"[/\\]", written.strip()) if part and part not in (".", "..")]
    name = re.sub(r"[^A-Za-z0-9_]", "_", last[-1] if last else "")
    if not name:
        raise InvalidInputError(f"{written!r} names no model; write ALG.`my_model` (or a path whose last part "
                                "is the model's name).", details={"model": written})
    if name[0].isdigit():
        name = f"m_{name}"
    return check_identifier(name[:63 - len("_prediction")], "model name")


def trigger_of(session: Session) -> RunTrigger:
    return {Via.CLI: RunTrigger.CLI, Via.SESSION: RunTrigger.WEB}.get(session.ctx.actor.via, RunTrigger.API)


@dataclass
class Plan:
    name: str
    features: list[str]
    label: str | None
    candidates: list[dict[str, Any]]
    notes: list[str]


def _option(options: dict[str, Option], name: str) -> Any:
    for key, option in options.items():
        if key.lower() == name.lower():
            return option.value
    return None


def plan(statement: Train, table: pa.Table) -> Plan:
    options = statement.options
    groups: dict[int, dict[str, Any]] = {}
    notes: list[str] = []
    for key, option in options.items():
        match = re.fullmatch(r"fitParam\.(\d+)\.(.+)", key, flags=re.IGNORECASE)
        if match:
            groups.setdefault(int(match.group(1)), {})[match.group(2)] = option.value
        elif key.lower() not in USED:
            notes.append(f"option {key} has no meaning in softquery and is ignored")
    if str(_option(options, "keepVersion") or "true").lower() != "true":
        notes.append("keepVersion=\"false\" is ignored: softquery keeps every trained version")
    candidates = [groups[n] for n in sorted(groups)] or [{}]
    label = _per_candidate(candidates, options, "labelCol")
    feature = _per_candidate(candidates, options, "featureCol")
    columns = table.schema.names
    if label is None and "label" in columns and statement.algorithm.lower() != "kmeans":
        label = "label"
    for name in [n for n in (label, feature) if n]:
        if name not in columns:
            raise statement.where.error(f"Table {statement.table} has no column {name!r}.", name=name,
                                        known=columns, what="column")
    features = [feature] if feature else [c for c in columns if c != label]
    return Plan(model_name_of(statement.model), features, label, candidates, notes)


def _per_candidate(candidates: list[dict[str, Any]], options: dict[str, Option], name: str) -> str | None:
    """``name`` given once for the statement, or in fitParam groups (removed from them: not a parameter)."""
    values = {str(c.pop(k)) for c in candidates for k in list(c) if k.lower() == name.lower()}
    top = _option(options, name)
    if top is not None:
        values.add(str(top))
    if len(values) > 1:
        raise InvalidInputError(f"{name} differs between fitParam groups ({', '.join(sorted(values))}); "
                                "candidates of one model read the same columns.")
    return values.pop() if values else None


def candidate_code(session: Session, statement: Train, model: str, params: dict[str, Any],
                   label: str | None) -> tuple[str | None, str]:
    """(template, code) for one candidate."""
    algorithm = statement.algorithm
    if algorithm.lower() in BUILTINS:
        return builtin_code(algorithm, params)
    if algorithm.lower() != "pythonalg":
        known = ["PythonAlg", *sorted({"LinearRegression", "LogisticRegressor", "RandomForest", "GBTRegressor",
                                       "GBTClassifier", "NaiveBayes", "KMeans", "SVM"})]
        raise statement.where.error(f"There is no algorithm {algorithm!r} here.", _token(statement, algorithm),
                                    name=algorithm, known=known, what="algorithm")
    path = _option(statement.options, "pythonScriptPath")
    if path is None:
        try:
            script = session.ctx.models.get(model).code  # retraining an existing model with its own code
        except NotFoundError:
            raise statement.where.error("PythonAlg needs pythonScriptPath: a code file of the files folder, "
                                        "or the name of an existing model.") from None
        return None, script
    script, name = _script(session, str(path))
    if defines_model_class(script):
        return None, class_model_code(script, params)
    fmt = str(_option(statement.options, "dataLocalFormat") or "json").lower()
    if fmt not in ("json", "csv"):
        raise InvalidInputError(f"dataLocalFormat {fmt!r}: softquery gives scripts json or csv.")
    return None, wrapper_code(script, name, params, fmt, label)


def _script(session: Session, path: str) -> tuple[str, str]:
    """The code a pythonScriptPath names: a file (or a folder's train.py) in the files folder, or a model."""
    ctx = session.ctx
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", path):
        try:
            return ctx.models.get(path).code, f"<model {path}>"
        except NotFoundError:
            pass
    real = resolve_file(ctx, path)
    if real.is_dir():
        real = resolve_file(ctx, f"{path.rstrip('/')}/train.py")
    return real.read_text(encoding="utf-8"), path


def _token(statement: Train, text: str) -> Any:
    return next((t for t in statement.where.tokens if t.text == text), None)


LOADED_FROM = b"softquery.loaded_from"  # schema metadata of a table ``load SOURCE.`t``` read: "SOURCE.t"


def loaded_from(table: pa.Table, source: str, name: str) -> pa.Table:
    """``table`` marked as read whole from table ``name`` of ``source``."""
    return table.replace_schema_metadata({**(table.schema.metadata or {}), LOADED_FROM: f"{source}.{name}".encode()})


def store_data(session: Session, model: str, table: pa.Table) -> tuple[str, str]:
    """(source, table) the model reads: a source's table as ``load`` read it, else the rows in
    ``.mlsql/<model>.duckdb`` (table ``data``) and a source reading only that file."""
    import duckdb

    origin = (table.schema.metadata or {}).get(LOADED_FROM)
    if origin:
        source, _, name = origin.decode().partition(".")
        return source, name

    folder = files_folder(session.ctx) / HIDDEN
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)  # the home's files are the owner's alone (home_privacy), whatever the umask
    path = folder / f"{model}.duckdb"
    staging = folder / f".{model}.duckdb.tmp"
    staging.unlink(missing_ok=True)
    conn = duckdb.connect(str(staging))
    try:
        conn.register("incoming", table)
        conn.execute("create table data as select * from incoming")
    finally:
        conn.close()
    # DuckDB creates its file with the umask's mode (it refuses an empty file made beforehand):
    # made private before it takes its name, inside the private folder, so it is never readable
    staging.chmod(0o600)
    staging.replace(path)
    source = f"mlsql_{model}"[:63]
    url = f"duckdb:///{path}"
    names = {s.name: s for s in session.ctx.sources.list()}
    if source not in names:
        add_source(session.ctx, source, url, test=False)  # audited (source.add)
    elif names[source].url != url:
        raise InvalidInputError(f"The data source {source!r} exists and reads something else; softquery keeps "
                                "mlsql_<model> sources for MLSQL's models. Rename that source.")
    return source, "data"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def save_model(session: Session, statement: Train, plan: Plan, data: tuple[str, str], template: str | None,
               code: str, search: dict[str, Any] | None = None) -> bool:
    """Create or update the model for one candidate; True when it was created."""
    ctx = session.ctx
    source, table = data
    features = ", ".join(_quote(c) for c in plan.features)
    spec = model_service.ModelSpec(
        source=source, code=code, label=plan.label or "",
        train_sql=f"select {features}{', ' + _quote(plan.label) if plan.label else ''} from {_quote(table)}",  # noqa: S608 - quoted names
        predict_sql=f"select {features} from {_quote(table)}",  # noqa: S608 - quoted names
        description=f"MLSQL: train {statement.table} as {statement.algorithm}.`{statement.model}`"
                    + (f" (template {template})" if template else ""), search=search)
    if search is None:
        spec.clear.add("search")  # a search of an earlier train statement does not carry over
    if not require_train(session, statement, plan.name):
        model_service.create_model(ctx, plan.name, spec)
        return True
    model_service.update_model(ctx, plan.name, spec)
    return False


def require_train(session: Session, statement: Train, name: str) -> bool:
    """The permission to create (False: no such model yet) or change (True) the model ``name``."""
    existing = session.ctx.models.find(name)
    if existing is None:
        session.require(statement, Action.CREATE_MODEL)
        return False
    session.require(statement, Action.CHANGE_MODEL, model=existing.name, owner_id=existing.owner_id)
    return True


def train_candidate(session: Session, name: str, wait: bool) -> Run:
    ctx = session.ctx
    executor = pick_executor(ctx)
    run = start_run(ctx, name, RunKind.TRAIN, trigger_of(session), executor)
    if executor is not None and not wait:
        return run
    if executor is None:  # nobody else would run it: run it here (model code in a sandboxed child)
        return execute_here(ctx, run.id)
    return follow_run(ctx, run.id, lambda _update: None, timeout=24 * 3600.0)


def run_failed(statement: Train, name: str, run: Run, earlier: list[Run]) -> SoftqueryError:
    """A candidate's run that did not succeed; the message says what the earlier ones made."""
    line = statement.where.error("").details["line"]
    made = [str(r.result["train"]["version"]) for r in earlier if r.status is RunStatus.SUCCEEDED]
    before = f" Earlier candidates made version(s) {', '.join(made)}." if made else ""
    return SoftqueryError(f"Line {line}: training model {name} (candidate {len(earlier)}) failed in run {run.id} "
                          f"({run.status.value}): {run.error_message or 'no message'}.{before}",
                          code=run.error_code or "run_failed",
                          details={**run.error_details, "run_id": run.id, "model": name, "line": line})


def train_result(name: str, runs: list[Run], active: int | None, metric: str | None, score: float | None,
                 notes: list[str], how: str) -> StatementResult:
    links = [Link("model", model=name)] + [Link("run", model=name, run_id=r.id) for r in runs]
    done = [r for r in runs if r.status is RunStatus.SUCCEEDED]
    if not done:
        last = runs[-1]
        return StatementResult(0, 0, 0, "train", "run", message=f"model {name}: training queued as run {last.id}",
                               run_id=last.id, run_status=last.status.value, links=links, notes=notes)
    versions = [int(r.result["train"]["version"]) for r in done]
    links += [Link("version", model=name, version=v) for v in versions]
    scored = f", {metric} {score:.4g} {how}" if metric and score is not None else ""
    what = (f"{len(versions)} candidates trained as versions {', '.join(map(str, versions))}; version {active} "
            f"active{scored}" if len(versions) > 1 else f"version {versions[0]} trained{scored}")
    return StatementResult(0, 0, 0, "train", "run", message=f"model {name}: {what}", run_id=runs[-1].id,
                           run_status=runs[-1].status.value, links=links, notes=notes)
