"""Fit user model code: holdout evaluation, then the final fit on every row."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from softquery.domain import TaskType
from softquery.errors import DataError, ModelCodeError, SoftqueryError
from softquery.modelcode.loader import load_code_module, model_class, user_code_error
from softquery.training import metrics as m
from softquery.training.answers import (
    BOOLEAN,
    KIND_WORDS,
    NUMBER,
    RowNames,
    kinds_in,
    null_rows,
    predictions_of,
    probabilities_of,
)
from softquery.training.capture import Captured, capture_output, headed
from softquery.training.importance import feature_importance
from softquery.training.parallel import run_all
from softquery.training.task import declared_task, detect_task

Progress = Callable[..., None]  # (phase, fraction | None, detail="")
MIN_HOLDOUT_ROWS = 20
TEST_FRACTION = 0.2
SPLIT_SEED = 0


@dataclass
class FitResult:
    model: Any
    task: TaskType
    metrics: dict[str, Any]
    evaluation: dict[str, Any]
    classes: list[Any] | None
    output: Captured
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    pids: dict[str, int] = field(default_factory=dict)  # which process made which fit
    holdout_rows: int = 0  # rows the holdout fit trained on


def call_user(fn: Callable[..., Any], where: str, *args: Any) -> Any:
    try:
        return fn(*args)
    except (KeyboardInterrupt, SystemExit, SoftqueryError, MemoryError):
        raise
    except BaseException as exc:
        raise user_code_error(exc, f"in {where}") from exc


def as_predictions(values: Any, n_rows: int, named: RowNames | None = None) -> np.ndarray:
    """What predict() returned, checked and made plain: one value per input row
    (``training.answers``: a ``ModelCodeError`` naming the problem and the rows otherwise)."""
    return predictions_of(values, n_rows, named)


def predict_proba_or_none(model: Any, X: pd.DataFrame, named: RowNames | None = None) -> np.ndarray | None:
    fn = call_user(getattr, "looking up predict_proba", model, "predict_proba", None)
    if fn is None:
        return None
    return probabilities_of(call_user(fn, "predict_proba(X)", X), len(X), None, named)


def vector_columns(X: pd.DataFrame) -> list[str]:
    """The columns of X whose cells are vectors (numpy arrays: array columns of the query)."""
    found = []
    for name in X.columns:
        if X[name].dtype == object:
            first = next((v for v in X[name] if v is not None), None)
            if type(first) is np.ndarray:
                found.append(str(name))
    return found


def _with_vector_hint(exc: ModelCodeError, X: pd.DataFrame) -> ModelCodeError:
    columns = vector_columns(X)
    if not columns:
        return exc
    first = columns[0]
    which = f"Column {first!r} holds" if len(columns) == 1 else f"Columns {', '.join(map(repr, columns))} hold"
    hint = (f"\n{which} vectors: each cell of X[{first!r}] is a numpy array of numbers, which most "
            f"estimators cannot take as one feature. Turn it into a matrix with `np.stack(X[{first!r}])` "
            "(one column per position; fill NULL vectors, which are None, first), or put "
            "`AutoPreprocessor()` (`from softquery.modelcode.preprocessing import AutoPreprocessor`) in "
            "front of the estimator: it expands each vector into one column per position.")
    return ModelCodeError(exc.message + hint, details={**exc.details, "vector_columns": columns})


def call_on_rows(fn: Callable[..., Any], where: str, X: pd.DataFrame, *args: Any) -> Any:
    """``call_user(fn, where, X, *args)``; a failure says which columns of X hold vectors."""
    try:
        return call_user(fn, where, X, *args)
    except ModelCodeError as exc:
        raise _with_vector_hint(exc, X) from exc


def holdout_predictions(model: Any, X_te: pd.DataFrame, which: str = "holdout") -> tuple[np.ndarray, RowNames]:
    """predict(X) of held-out rows: a prediction for every row, or the rows without one."""
    named = RowNames(where="of the training rows (X.index)", labels=list(X_te.index))
    preds = as_predictions(call_on_rows(model.predict, "predict(X)", X_te), len(X_te), named)
    missing = null_rows(preds)
    if missing:
        raise ModelCodeError(
            f"predict(X) returned no prediction (None or NaN) for {len(missing):,} of the {len(X_te):,} "
            f"{which} rows, at {named.name(missing)}. Every holdout row needs a prediction to measure the "
            "model; a NULL in an input column that the model does not handle is the usual cause "
            "(AutoPreprocessor fills them).",
            details={**named.details(missing), "problem": "no_prediction", "rows": len(X_te)})
    return preds, named


def holdout_fraction(cls: Any) -> float:
    """The share of rows held out to measure the model: ``holdout_fraction`` of ``class Model``
    (0: none, metrics on the training rows), TEST_FRACTION when it does not say."""
    value = getattr(cls, "holdout_fraction", TEST_FRACTION)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ModelCodeError(f"Model.holdout_fraction must be a number from 0 to below 1 (the share of rows "
                             f"held out to measure the model); it is {value!r}.",
                             details={"problem": "holdout_fraction"})
    return float(value)


def _split(X: pd.DataFrame, y: pd.Series | None, stratify: bool,
           fraction: float = TEST_FRACTION) -> tuple[Any, Any, Any, Any]:
    strat = None
    if stratify and y is not None:
        counts = y.value_counts()
        n_test = int(np.ceil(len(y) * fraction))
        if counts.min() >= 2 and n_test >= len(counts):
            strat = y
    if y is None:
        X_tr, X_te = train_test_split(X, test_size=fraction, random_state=SPLIT_SEED)
        return X_tr, X_te, None, None
    return tuple(train_test_split(X, y, test_size=fraction, random_state=SPLIT_SEED, stratify=strat))


def _split_latest(X: pd.DataFrame, y: pd.Series | None, order: pd.Series,
                  fraction: float) -> tuple[Any, Any, Any, Any]:
    """The latest ``fraction`` of the rows in ``order`` held out (at least one), the rest trained on:
    a model of ordered data is measured on rows after the ones it learned from, like the ordered folds."""
    in_order = np.argsort(order.to_numpy(), kind="stable")
    n_test = max(1, int(np.ceil(len(X) * fraction)))
    train_at, test_at = in_order[:-n_test], in_order[-n_test:]
    if y is None:
        return X.iloc[train_at], X.iloc[test_at], None, None
    return X.iloc[train_at], X.iloc[test_at], y.iloc[train_at], y.iloc[test_at]


def _classes(y: pd.Series, label: str) -> list[Any]:
    classes = sorted(pd.unique(y).tolist(), key=lambda v: (str(type(v)), v))
    if len(classes) < 2:
        raise DataError(
            f"The label column {label!r} has only one value ({classes[0]!r}) in the training rows; "
            "a classifier needs at least two different classes. Check the train query's WHERE clause.",
            details={"label": label, "classes": [str(c) for c in classes]},
        )
    return classes


@dataclass
class Holdout:
    """What the holdout fit measured: plain data, so it can come back from another process."""

    task: TaskType
    metrics: dict[str, Any]
    evaluation: dict[str, Any]
    classes: list[Any] | None
    notes: list[str]
    seconds: float  # the holdout fit's train() time
    train_rows: int
    pid: int


def _evaluate_holdout(cls: Any, X: pd.DataFrame, y: pd.Series | None, *, label: str | None,
                      declared: TaskType | None, guess: TaskType, fraction: float, holdout: bool,
                      order: pd.Series | None = None) -> Holdout:
    notes: list[str] = []
    if holdout and order is not None:
        X_tr, X_te, y_tr, y_te = _split_latest(X, y, order, fraction)
    elif holdout:
        X_tr, X_te, y_tr, y_te = _split(X, y, guess is TaskType.CLASSIFICATION, fraction)
    else:
        notes.append(
            f"Only {len(X)} training rows: metrics are measured on the training rows themselves "
            "and are optimistic." if fraction > 0 else "No rows are held out (Model.holdout_fraction "
            "is 0): metrics are measured on the training rows themselves and are optimistic."
        )
        X_tr, X_te, y_tr, y_te = X, X, y, y
    t0 = time.perf_counter()
    evaluator = call_user(cls, "Model()")
    call_on_rows(evaluator.train, "train(X, y)", X_tr, y_tr)
    seconds = time.perf_counter() - t0
    preds, named = holdout_predictions(evaluator, X_te)
    proba = predict_proba_or_none(evaluator, X_te, named) if y is not None else None
    task = detect_task(y, declared, has_proba=proba is not None, predictions=_detectable(preds))
    classes = label_classes(task, y, label)
    metrics, evaluation = evaluate_predictions(task, X_te, y_te, preds, proba, classes, named)
    try:
        evaluation["feature_importance"] = feature_importance(evaluator, X_te, y_te, task)
    except Exception as exc:  # importance is a bonus: never fail a training over it
        notes.append(f"Feature importance could not be computed ({type(exc).__name__}: {exc}).")
    evaluation["split"] = {
        "method": ("ordered" if order is not None else "holdout") if holdout else "none",
        "test_fraction": fraction if holdout else 0.0,
        "seed": SPLIT_SEED,
        "train_rows": len(X_tr),
        "test_rows": len(X_te),
    }
    if holdout and order is not None:  # the latest rows held out, by this column
        evaluation["split"]["order_column"] = str(order.name) if order.name is not None else None
    return Holdout(task, metrics, evaluation, classes, notes, seconds, len(X_tr), os.getpid())


def task_before_fitting(cls: Any, y: pd.Series | None) -> TaskType | None:
    """The task, when what the holdout fit predicts cannot change it (None: it can, for an
    undeclared task on a label of a few whole numbers)."""
    declared = declared_task(cls)
    sure = detect_task(y, declared, has_proba=False)
    return sure if sure is detect_task(y, declared, has_proba=True) else None


def label_classes(task: TaskType, y: pd.Series | None, label: str | None) -> list[Any] | None:
    """The classes a classifier's metrics are over (None for other tasks)."""
    return _classes(y, label or "label") if task is TaskType.CLASSIFICATION and y is not None else None


AfterFinal = Callable[[float], None]  # (the final fit's seconds) -> None


def fit_and_evaluate(
    code: str, X: pd.DataFrame, y: pd.Series | None, *, label: str | None, progress: Progress,
    log_limit: int = 200_000, capture: bool = True, cores: int = 1, after_final: AfterFinal | None = None,
    order: pd.Series | None = None,
) -> FitResult:
    """The holdout fit and evaluation, and the final fit on every row; ``order`` (row for row with
    X: a model with an order column) holds out the latest rows instead of a random share. With ``cores`` > 1 the
    holdout fit runs in a forked process (``training.parallel``) while this process makes the
    final fit, then ``after_final`` (the cross-validation, when the task is known before the
    holdout): they are independent, and this is most of a large training's time."""
    timings: dict[str, float] = {}
    module = load_code_module(code)
    cls = model_class(module)
    declared = declared_task(cls)
    if declared in (TaskType.REGRESSION, TaskType.CLASSIFICATION) and y is None:
        raise DataError("This model needs a label column, but the train query has none. Set --label.")
    guess = detect_task(y, declared, has_proba=hasattr(cls, "predict_proba"))
    if guess is TaskType.CLASSIFICATION and y is not None:
        _classes(y, label or "label")
    fraction = holdout_fraction(cls)
    holdout = len(X) >= MIN_HOLDOUT_ROWS and fraction > 0
    finals: list[Any] = []

    def final_fit() -> None:
        t1 = time.perf_counter()
        with headed("final fit"):  # what each fit prints, under its name (they may run side by side)
            final = call_user(cls, "Model()")
            call_on_rows(final.train, "train(X, y)", X, y)
        timings["final_fit"] = time.perf_counter() - t1
        finals.append(final)
        if after_final is not None and cores > 1:
            after_final(timings["final_fit"])

    def holdout_fit() -> Holdout:
        with headed("holdout fit"):
            return _evaluate_holdout(cls, X, y, label=label, declared=declared, guess=guess, fraction=fraction,
                                     holdout=holdout, order=order)

    with capture_output(log_limit) if capture else contextlib.nullcontext(Captured()) as captured:
        if cores > 1:
            progress("training on the holdout split and on all rows", 0.3)
        else:
            progress("training on the holdout split", 0.3)
        t0 = time.perf_counter()
        if cores > 1:
            [measured] = run_all([holdout_fit], cores, beside=final_fit, names=["holdout fit"])
        else:  # one after the other: the holdout's errors first, as before
            [measured] = run_all([holdout_fit], 1)
            progress("training on all rows", 0.6)
            final_fit()
        timings["holdout_fit"] = measured.seconds
        timings["parallel_fits_wall"] = time.perf_counter() - t0
    result = FitResult(finals[0], measured.task, measured.metrics, measured.evaluation, measured.classes,
                       captured, timings, list(measured.notes))
    result.pids = {"holdout_fit": measured.pid, "final_fit": os.getpid()}
    result.holdout_rows = measured.train_rows
    return result


def _detectable(preds: np.ndarray) -> np.ndarray | None:
    """Predictions ``detect_task`` may look at: numbers only (it asks whether they are integers)."""
    return preds if preds.dtype.kind in "biuf" else None


def _numbers(preds: np.ndarray, named: RowNames) -> np.ndarray:
    """Regression predictions as floats; text, dates and such name their rows."""
    if preds.dtype.kind in "biuf":
        return preds.astype(float)
    kinds = {k: v for k, v in kinds_in(preds).items() if k not in (NUMBER, BOOLEAN)}
    if kinds:
        kind, positions = next(iter(kinds.items()))
        raise ModelCodeError(
            f"predict(X) returned {KIND_WORDS[kind]} ({_shown(preds, positions)} at {named.name(positions)}) "
            "for a regression label; a regression predicts numbers.",
            details={**named.details(positions), "problem": "not_numbers"})
    return np.array([float(v) for v in preds.tolist()], dtype=float)


def _shown(preds: np.ndarray, positions: list[int]) -> str:
    return ", ".join(repr(v)[:40] for v in preds[positions[:3]].tolist())


def _as_classes(preds: np.ndarray, classes: list[Any], named: RowNames) -> np.ndarray:
    """Each prediction as the label class it equals; a value that is no class names its rows."""
    lookup = {c: c for c in classes}
    values = preds.tolist()
    odd = [i for i, v in enumerate(values) if v not in lookup]
    if odd:
        listed = ", ".join(repr(c)[:40] for c in classes[:10]) + (", ..." if len(classes) > 10 else "")
        raise ModelCodeError(
            f"predict(X) returned {_shown(preds, odd)} at {named.name(odd)}, which is not one of the label's "
            f"classes ({listed}); a classifier predicts one of the classes it was trained on.",
            details={**named.details(odd), "problem": "unknown_class", "classes": [str(c) for c in classes[:50]]})
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = lookup[v]
    return out


def evaluate_predictions(
    task: TaskType, X_te: pd.DataFrame, y_te: pd.Series | None, preds: np.ndarray,
    proba: np.ndarray | None, classes: list[Any] | None, named: RowNames,
) -> tuple[dict[str, Any], dict[str, Any]]:
    evaluation: dict[str, Any] = {}
    if task is TaskType.CLUSTERING or y_te is None:
        numeric = X_te.select_dtypes("number").replace([np.inf, -np.inf], np.nan)
        matrix = numeric.fillna(numeric.mean()).fillna(0).to_numpy() if not numeric.empty else None
        metrics = m.clustering_metrics(matrix, preds) if matrix is not None else {"n_clusters": len(set(preds.tolist()))}
        return metrics, evaluation
    if task is TaskType.REGRESSION:
        pred_f = _numbers(preds, named)
        metrics = m.regression_metrics(y_te.to_numpy(dtype=float), pred_f)
        idx = np.linspace(0, len(pred_f) - 1, num=min(len(pred_f), 300)).astype(int)
        evaluation["predicted_vs_actual"] = {
            "actual": [float(v) for v in y_te.to_numpy(dtype=float)[idx]],
            "predicted": [float(v) for v in pred_f[idx]],
        }
        return metrics, evaluation
    assert classes is not None
    preds = _as_classes(preds, classes, named)
    metrics = m.classification_metrics(y_te.to_numpy(), preds, proba, classes)
    if len(classes) <= 50:
        evaluation["confusion_matrix"] = {"labels": [str(c) for c in classes],
                                          "matrix": m.confusion(y_te.to_numpy(), preds, classes)}
    return metrics, evaluation
