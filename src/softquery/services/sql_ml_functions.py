"""ML table functions other than ML.PREDICT: ML.EVALUATE, ML.WEIGHTS, ML.FEATURE_IMPORTANCE …

Each takes the statement's ``MLFunction`` node and answers an Arrow table (BigQuery ML's
column names where they fit); the query planner (``sql_queries``) puts it where the call
stood, so it can be joined and filtered. Without input rows a function answers what the
model's active version stored when it was trained (its holdout metrics, confusion matrix,
feature importance); with input rows (``ML.EVALUATE(MODEL m, (SELECT …))``) it predicts
them through ``sql_predict.predict_table`` (model code in an isolated child) and measures
the predictions against the rows' label. ML.WEIGHTS reads the coefficients through the JSON
export, which unpickles in a sandboxed child: nothing here runs model code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
from sqlglot import exp

from softquery.auth.policy import Action
from softquery.domain import Model, TaskType, Version
from softquery.errors import InvalidInputError, NotFoundError
from softquery.services import cv_figures
from softquery.services.sql_inputs import input_rows
from softquery.services.sql_session import Session
from softquery.sql.dialect import MLFunction
from softquery.sql.statement_errors import SqlError, sql_error
from softquery.sql.statements import ModelRef, Statement

TableFunction = Callable[[Session, Statement, MLFunction], pa.Table]

# softquery's metric names (the CLI's, the version page's) -> BigQuery ML's ML.EVALUATE columns
EVALUATE_COLUMNS = {"r2": "r2_score", "mae": "mean_absolute_error", "rmse": "root_mean_squared_error",
                    "f1": "f1_score", "silhouette": "silhouette_score"}
SETTINGS = {"EVALUATE": ("threshold",), "CONFUSION_MATRIX": ("threshold",)}


# --- what every function needs --------------------------------------------------------

def _offset(statement: Statement, node: Any) -> int:
    meta = getattr(node, "meta", None) or {}
    start = meta.get("start")
    return int(start) if isinstance(start, int) else statement.where.offset


def model_ref(statement: Statement, node: MLFunction) -> ModelRef:
    table = node.args["model"]
    return ModelRef(name=table.name, source=table.db or None, offset=_offset(statement, table.this))


def _error(statement: Statement, offset: int, message: str, **kwargs: Any) -> SqlError:
    return sql_error(message, statement.where.script, offset, **kwargs)


def active_version(session: Session, statement: Statement, node: MLFunction) -> tuple[ModelRef, Model, Version]:
    """The model the call names (known, readable by the actor) and its active version."""
    ref = model_ref(statement, node)
    try:
        model = session.ctx.models.get(ref.name)
    except NotFoundError:
        known = [m.name for m in session.ctx.models.list()]
        raise _error(statement, ref.offset, f"There is no model {ref.name}.", name=ref.name, known=known,
                     what="model") from None
    if ref.source and ref.source != model.source:
        raise _error(statement, ref.offset, f"The model {ref.name} reads source {model.source}, not {ref.source}.")
    session.require(statement, Action.READ, model=ref.name)
    if model.active_version is None:
        raise _error(statement, ref.offset, f"The model {ref.name} has no trained version yet; train one "
                     "(CREATE OR REPLACE MODEL …, or `softquery train`) first.")
    return ref, model, session.ctx.versions.get(ref.name, model.active_version)


def _settings(statement: Statement, node: MLFunction) -> dict[str, float]:
    """The call's STRUCT(0.5 AS threshold) settings, checked against the function's known ones."""
    struct = node.args.get("settings")
    if struct is None:
        return {}
    known = SETTINGS.get(node.name, ())
    found: dict[str, float] = {}
    for item in struct.expressions:
        if isinstance(item, exp.PropertyEQ):
            name, value = item.this.name.lower(), item.expression
        elif isinstance(item, exp.Alias):
            name, value = item.alias.lower(), item.this
        else:
            raise _error(statement, statement.where.offset, f"Write ML.{node.name}'s settings as "
                         "STRUCT(value AS name), e.g. STRUCT(0.5 AS threshold).")
        if name not in known:
            raise _error(statement, statement.where.offset, f"ML.{node.name} has no setting {name!r}; its "
                         f"settings: {', '.join(known) or 'none'}.", name=name, known=known, what="setting")
        if not (isinstance(value, exp.Literal) and value.is_number):
            raise _error(statement, statement.where.offset, f"The setting {name} takes a number.")
        found[name] = float(value.this)
    threshold = found.get("threshold")
    if threshold is not None and not 0 <= threshold <= 1:
        raise _error(statement, statement.where.offset, "threshold is a probability: from 0 to 1.")
    return found


def _task(version: Version) -> TaskType:
    return TaskType(str(version.manifest.get("task")))


def _label(version: Version, model: Model | None = None) -> str | None:
    """The label the version learned; an imported version (which learned elsewhere) stored before
    imports recorded it has none: the model's label stands for it."""
    label = version.manifest.get("data", {}).get("label")
    if not label and model is not None and imported(version):
        label = model.label
    return str(label) if label else None


def imported(version: Version) -> bool:
    """A version imported (from MLflow) rather than trained here: it has no stored holdout
    metrics, evaluation, cross-validation or training rows."""
    return cv_figures.imported(version.manifest)


IMPORTED_NOTE = ("version {v} was imported from MLflow: it has no stored metrics; measure it on rows "
                 "with ML.EVALUATE(MODEL {m}, (SELECT … with the label column))")
# the holdout metrics a training stores, per task (the columns of an imported version's NULL row)
TASK_METRICS = {TaskType.REGRESSION: ("r2", "mae", "rmse"),
                TaskType.CLASSIFICATION: ("accuracy", "precision", "recall", "f1")}


def _needs_input(statement: Statement, node: MLFunction, why: str) -> SqlError:
    return _error(statement, _offset(statement, node.args["model"].this),
                  f"ML.{node.name} needs the rows to measure here ({why}): "
                  f"ML.{node.name}(MODEL {node.args['model'].name}, (SELECT … with the label column)).")


def _one_row(values: dict[str, Any]) -> pa.Table:
    return pa.table({name: [value] for name, value in values.items()})


# --- predictions of input rows -----------------------------------------------------------

def _predicted(session: Session, statement: Statement, node: MLFunction, ref: ModelRef, model: Model,
               version: Version) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(label values, predictions, probabilities per class or None) of the call's input rows."""
    from softquery.services.sql_predict import predict_table

    label = _label(version, model)
    if label is None:
        raise _error(statement, ref.offset, f"The model {ref.name} learned without a label: there is nothing "
                     f"to measure its predictions against.")
    given = node.args["expression"]
    # the planner's reader (a SELECT planned like any query, the script's tables), else the source's
    rows = session.input_rows(statement, given) if session.input_rows is not None \
        else input_rows(session, statement, given, model.source)
    if label not in rows.column_names:
        raise _error(statement, _offset(statement, node.args["expression"]),
                     f"The input rows need the label column {label} to measure the predictions against.",
                     name=label, known=rows.column_names, what="column")
    predicted = predict_table(session, statement, ref, rows)
    truth = np.asarray(predicted.column(label).to_pylist(), dtype=object)
    preds = np.asarray(predicted.column(f"predicted_{label}").to_pylist(), dtype=object)
    probs_column = f"predicted_{label}_probs"
    proba = None
    if probs_column in predicted.column_names:
        proba = _probabilities(predicted.column(probs_column).to_pylist(), version.manifest.get("classes") or [])
    known = np.asarray([t is not None and t == t for t in truth.tolist()], dtype=bool)  # NULL/NaN labels: unmeasured
    if not known.any():
        raise _error(statement, _offset(statement, node.args["expression"]),
                     f"None of the input rows has a {label}: there is nothing to measure the predictions against.")
    return truth[known], preds[known], None if proba is None else proba[known]


def _probabilities(values: list[Any], classes: list[Any]) -> np.ndarray | None:
    """BigQuery's ``predicted_<label>_probs`` (a list of {label, prob} per row) as a rows × classes array."""
    index = {str(c): i for i, c in enumerate(classes)}
    out = np.zeros((len(values), len(classes)), dtype=float)
    for row, items in enumerate(values):
        if not isinstance(items, list):
            return None
        for item in items:
            if isinstance(item, dict) and str(item.get("label")) in index:
                out[row, index[str(item.get("label"))]] = float(item.get("prob") or 0.0)
    return out


def _as_classes(values: np.ndarray, classes: list[Any]) -> np.ndarray:
    """Values as the version's class values (a label read back as text matches its class)."""
    by_text = {str(c): c for c in classes}
    return np.asarray([by_text.get(str(v), v) for v in values.tolist()], dtype=object)


def _thresholded(proba: np.ndarray | None, classes: list[Any], threshold: float | None,
                 preds: np.ndarray) -> np.ndarray:
    if threshold is None or proba is None or len(classes) != 2:
        return preds
    from softquery.training.metrics import positive_class

    positive = positive_class(classes)
    index = classes.index(positive)
    other = classes[1 - index]
    return np.asarray([positive if p >= threshold else other for p in proba[:, index]], dtype=object)


# --- the functions ---------------------------------------------------------------------

def evaluate(session: Session, statement: Statement, node: MLFunction) -> pa.Table:
    """ML.EVALUATE: one row of metrics (the stored holdout metrics, or measured on the input rows)."""
    from softquery.training import metrics as m

    ref, model, version = active_version(session, statement, node)
    settings = _settings(statement, node)
    task = _task(version)
    if node.args.get("expression") is None:
        if settings:
            raise _needs_input(statement, node, "a threshold changes the predictions")
        metrics = version.metrics
        if not metrics and imported(version):
            metrics = {name: None for name in TASK_METRICS.get(task, ())}
    else:
        if task not in (TaskType.REGRESSION, TaskType.CLASSIFICATION):
            raise _error(statement, ref.offset, f"ML.EVALUATE with input rows measures a label; {ref.name} "
                         "is a clustering model. ML.EVALUATE(MODEL m) shows its stored metrics.")
        truth, preds, proba = _predicted(session, statement, node, ref, model, version)
        try:
            if task is TaskType.REGRESSION:
                metrics = m.regression_metrics(truth.astype(float), preds.astype(float))
            else:
                classes = list(version.manifest.get("classes") or [])
                preds = _thresholded(proba, classes, settings.get("threshold"), _as_classes(preds, classes))
                metrics = m.classification_metrics(_as_classes(truth, classes), preds, proba, classes)
        except (TypeError, ValueError) as exc:  # e.g. a label that is no number for a regression
            raise _error(statement, _offset(statement, node.args["expression"]),
                         f"The input rows' {_label(version, model)} cannot be measured against the predictions ({exc}).") \
                from None
    values: dict[str, Any] = {}
    for name, value in metrics.items():
        values[EVALUATE_COLUMNS.get(name, name)] = value
        if name == "rmse":
            values["mean_squared_error"] = float(value) ** 2 if isinstance(value, int | float) else None
    columns = {name: pa.array([value], pa.float64() if value is None else None) for name, value in values.items()}
    if node.args.get("expression") is None:
        columns.update(_cross_validated(version))
        if imported(version):
            columns["note"] = pa.array([IMPORTED_NOTE.format(v=version.version, m=ref.name)], pa.string())
    return pa.table(columns) if columns else _one_row({"note": "no metrics stored"})


def _cross_validated(version: Version) -> dict[str, pa.Array]:
    """The stored cross-validation beside the holdout metrics: ``cv_folds``, ``cv_method`` and
    ``cv_<column>_mean`` / ``cv_<column>_std`` per metric (null for a version without CV)."""
    cv = cv_figures.cv_of(version.manifest)
    measured = cv_figures.measured(cv)
    names = list(version.metrics) + [n for n in ((cv or {}).get("metrics") or {}) if n not in version.metrics]
    values: dict[str, pa.Array] = {
        "cv_folds": pa.array([(cv or {}).get("folds") if measured else None], pa.int64()),
        "cv_method": pa.array([cv_figures.method_text(cv)], pa.string())}
    for name in names:
        mean, std = cv_figures.score(cv, name)
        column = EVALUATE_COLUMNS.get(name, name)
        values[f"cv_{column}_mean"] = pa.array([mean], pa.float64())
        values[f"cv_{column}_std"] = pa.array([std], pa.float64())
        if name == "rmse":  # beside the holdout's mean_squared_error: from each fold's rmse, squared
            mean, std = _squared_folds(cv, name)
            values["cv_mean_squared_error_mean"] = pa.array([mean], pa.float64())
            values["cv_mean_squared_error_std"] = pa.array([std], pa.float64())
    return values


def _squared_folds(cv: dict[str, Any] | None, name: str) -> tuple[float | None, float | None]:
    """The mean and (population) standard deviation over the folds of ``name`` squared (None: not measured)."""
    if not cv_figures.measured(cv):
        return None, None
    folds = (((cv or {}).get("metrics") or {}).get(name) or {}).get("folds")
    if not isinstance(folds, list) or not folds or not all(isinstance(v, int | float) for v in folds):
        return None, None
    squares = [float(v) ** 2 for v in folds]
    mean = sum(squares) / len(squares)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in squares) / len(squares))


def feature_importance(session: Session, statement: Statement, node: MLFunction) -> pa.Table:
    """ML.FEATURE_IMPORTANCE: the permutation importance stored with the active version."""
    ref, _, version = active_version(session, statement, node)
    stored = (version.manifest.get("evaluation") or {}).get("feature_importance")
    if not stored and imported(version):
        raise _error(statement, ref.offset, f"Version {version.version} of {ref.name} was imported from MLflow: "
                     "softquery measured no feature importance for it (it measures it on a training's holdout rows).")
    if not stored:
        notes = " ".join(str(n) for n in version.manifest.get("notes", []) if "importance" in str(n).lower())
        raise _error(statement, ref.offset, f"Version {version.version} of {ref.name} has no feature importance "
                     f"stored. {notes}".strip())
    return pa.table({
        "feature": pa.array([str(row["feature"]) for row in stored], pa.string()),
        "importance": pa.array([float(row["importance"]) for row in stored], pa.float64()),
        "importance_stddev": pa.array([_float(row.get("std")) for row in stored], pa.float64()),
    })


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def weights(session: Session, statement: Statement, node: MLFunction) -> pa.Table:
    """ML.WEIGHTS: a linear model's coefficients (its JSON export) as a table: one row per processed
    input (and class, for a multiclass model), the intercept as ``__INTERCEPT__``; a standardised
    number's ``input_mean`` and ``input_scale`` say what its weight multiplies."""
    from softquery.services.export import export_json_isolated

    ref, _, version = active_version(session, statement, node)
    try:
        document = export_json_isolated(session.ctx, ref.name, version.version)
    except InvalidInputError as exc:
        raise _error(statement, ref.offset, f"ML.WEIGHTS: {exc.message}") from None
    names = [str(n) for n in document["feature_names"]]
    coefficients, intercept = document["coefficients"], document["intercept"]
    inputs: list[str] = []
    classes: list[str | None] = []
    values: list[float] = []
    if document.get("link") == "softmax":
        for label, row, bias in zip(document["classes"], coefficients, intercept, strict=True):
            inputs += [*names, "__INTERCEPT__"]
            classes += [str(label)] * (len(names) + 1)
            values += [*(float(v) for v in row), float(bias)]
    else:
        positive = str(document["classes"][-1]) if document.get("link") == "logistic" else None
        inputs = [*names, "__INTERCEPT__"]
        classes = [positive] * len(inputs)
        values = [*(float(v) for v in coefficients), float(intercept)]
    standardised = _standardisation(document)
    return pa.table({"processed_input": pa.array(inputs, pa.string()), "class": pa.array(classes, pa.string()),
                     "weight": pa.array(values, pa.float64()),
                     "input_mean": pa.array([standardised.get(n, (None, None))[0] for n in inputs], pa.float64()),
                     "input_scale": pa.array([standardised.get(n, (None, None))[1] for n in inputs], pa.float64())})


def _standardisation(document: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """processed input -> (mean, scale) of the numbers the model standardised before weighing them:
    a weight applies to ``(value - input_mean) / input_scale``, not to the raw value."""
    preprocessing = document.get("preprocessing") or {}
    if not preprocessing.get("scale"):
        return {}
    found: dict[str, tuple[float, float]] = {}
    for column in preprocessing.get("columns", []):
        if "mean" in column and "scale" in column:
            for name, mean, scale in zip(column["output_features"], column["mean"], column["scale"], strict=False):
                found[str(name)] = (float(mean), float(scale))
    return found


def training_info(session: Session, statement: Statement, node: MLFunction) -> pa.Table:
    """ML.TRAINING_INFO: one row per trained version of the model (each a training run), oldest first."""
    ref, _, _ = active_version(session, statement, node)
    rows: list[dict[str, Any]] = []
    for number, version in enumerate(sorted(session.ctx.versions.list(ref.name), key=lambda v: v.version)):
        manifest = version.manifest
        split = (manifest.get("evaluation") or {}).get("split") or {}
        task = str(manifest.get("task"))
        try:
            metric = TaskType(task).key_metric
        except ValueError:
            metric = None
        rows.append({
            "training_run": number, "version": version.version, "run_id": manifest.get("run_id"),
            "created_at": version.created_at, "active": version.active, "task": task,
            "rows": (manifest.get("data") or {}).get("rows"), "train_rows": split.get("train_rows"),
            "eval_rows": split.get("test_rows"), "eval_fraction": _float(split.get("test_fraction")),
            "metric": metric, "metric_value": _float(version.metrics.get(metric)) if metric else None,
            "duration_ms": round(float(manifest.get("duration_seconds") or 0.0) * 1000),
        })
    schema = pa.schema([("training_run", pa.int64()), ("version", pa.int64()), ("run_id", pa.string()),
                        ("created_at", pa.timestamp("us", tz="UTC")), ("active", pa.bool_()), ("task", pa.string()),
                        ("rows", pa.int64()), ("train_rows", pa.int64()), ("eval_rows", pa.int64()),
                        ("eval_fraction", pa.float64()), ("metric", pa.string()), ("metric_value", pa.float64()),
                        ("duration_ms", pa.int64())])
    return pa.Table.from_pylist(rows, schema=schema)


def confusion_matrix(session: Session, statement: Statement, node: MLFunction) -> pa.Table:
    """ML.CONFUSION_MATRIX: ``expected_label`` and one column per predicted class (counts)."""
    from softquery.training import metrics as m

    ref, model, version = active_version(session, statement, node)
    if _task(version) is not TaskType.CLASSIFICATION:
        raise _error(statement, ref.offset, f"ML.CONFUSION_MATRIX is for classifiers; {ref.name} is a "
                     f"{_task(version).value} model.")
    settings = _settings(statement, node)
    classes = list(version.manifest.get("classes") or [])
    if node.args.get("expression") is None:
        if settings:
            raise _needs_input(statement, node, "a threshold changes the predictions")
        stored = (version.manifest.get("evaluation") or {}).get("confusion_matrix")
        if not stored:
            raise _needs_input(statement, node, f"version {version.version} stored no confusion matrix")
        labels, matrix = [str(c) for c in stored["labels"]], stored["matrix"]
    else:
        truth, preds, proba = _predicted(session, statement, node, ref, model, version)
        preds = _thresholded(proba, classes, settings.get("threshold"), _as_classes(preds, classes))
        labels, matrix = [str(c) for c in classes], m.confusion(_as_classes(truth, classes), preds, classes)
    columns: dict[str, pa.Array] = {"expected_label": pa.array(labels, pa.string())}
    for j, label in enumerate(labels):
        columns[label] = pa.array([int(row[j]) for row in matrix], pa.int64())
    return pa.table(columns)


def roc_curve(session: Session, statement: Statement, node: MLFunction) -> pa.Table:
    """ML.ROC_CURVE of a binary classifier on the input rows: one row per threshold."""
    ref, model, version = active_version(session, statement, node)
    classes = list(version.manifest.get("classes") or [])
    if _task(version) is not TaskType.CLASSIFICATION or len(classes) != 2:
        raise _error(statement, ref.offset, f"ML.ROC_CURVE is for binary classifiers (two classes); {ref.name} "
                     f"is a {_task(version).value} model" + (f" with {len(classes)} classes." if classes else "."))
    if node.args.get("expression") is None:
        raise _needs_input(statement, node, "softquery stores no holdout probabilities")
    truth, _, proba = _predicted(session, statement, node, ref, model, version)
    if proba is None:
        raise _error(statement, ref.offset, f"The model {ref.name} gives no class probabilities "
                     "(its code has no predict_proba), so it has no ROC curve.")
    from softquery.training.metrics import positive_class

    positive = positive_class(classes)
    is_positive = np.asarray([v == positive for v in _as_classes(truth, classes).tolist()], dtype=bool)
    scores = proba[:, classes.index(positive)]
    thresholds = np.unique(scores)[::-1]
    rows = []
    positives, negatives = int(is_positive.sum()), int((~is_positive).sum())
    for threshold in thresholds:
        predicted = scores >= threshold
        tp = int((predicted & is_positive).sum())
        fp = int((predicted & ~is_positive).sum())
        rows.append({"threshold": float(threshold), "recall": tp / positives if positives else None,
                     "false_positive_rate": fp / negatives if negatives else None,
                     "true_positives": tp, "false_positives": fp,
                     "true_negatives": negatives - fp, "false_negatives": positives - tp})
    schema = pa.schema([("threshold", pa.float64()), ("recall", pa.float64()), ("false_positive_rate", pa.float64()),
                        ("true_positives", pa.int64()), ("false_positives", pa.int64()),
                        ("true_negatives", pa.int64()), ("false_negatives", pa.int64())])
    return pa.Table.from_pylist(rows, schema=schema)


def _no_input(function: TableFunction) -> TableFunction:
    """A function that takes only the model (and settings): an input is an error at its position."""
    def call(session: Session, statement: Statement, node: MLFunction) -> pa.Table:
        if node.args.get("expression") is not None:
            raise _error(statement, _offset(statement, node.args["model"].this),
                         f"ML.{node.name} takes only the model: ML.{node.name}(MODEL m).")
        return function(session, statement, node)
    return call


# upper-case function name (EVALUATE, WEIGHTS, …) -> its implementation
TABLE_FUNCTIONS: dict[str, TableFunction] = {
    "EVALUATE": evaluate,
    "FEATURE_IMPORTANCE": _no_input(feature_importance),
    "WEIGHTS": _no_input(weights),
    "TRAINING_INFO": _no_input(training_info),
    "CONFUSION_MATRIX": confusion_matrix,
    "ROC_CURVE": roc_curve,
}


def function_names() -> tuple[str, ...]:
    """Every ML table function a statement may call, as it is written: ML.PREDICT (``sql_predict``)
    and the ones above. The SQL console completes these."""
    return ("ML.PREDICT", *(f"ML.{name}" for name in TABLE_FUNCTIONS))
