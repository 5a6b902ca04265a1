"""Fit user model code: holdout evaluation, then the final fit on every row."""

from __future__ import annotations

import contextlib
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
from softquery.training.capture import Captured, capture_output
from softquery.training.importance import feature_importance
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


def call_user(fn: Callable[..., Any], where: str, *args: Any) -> Any:
    try:
        return fn(*args)
    except (KeyboardInterrupt, SystemExit, SoftqueryError, MemoryError):
        raise
    except BaseException as exc:
        raise user_code_error(exc, f"in {where}") from exc


def as_predictions(values: Any, n_rows: int) -> np.ndarray:
    """Validate what predict() returned: one value per input row."""
    if values is None:
        raise ModelCodeError("predict(X) returned None; it must return one prediction per row of X.")
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1 or arr.shape[0] != n_rows:
        raise ModelCodeError(
            f"predict(X) returned {arr.shape[0] if arr.ndim else 1} value(s) (shape {arr.shape}) "
            f"for {n_rows} input rows; it must return exactly one prediction per row.",
            details={"returned_shape": list(arr.shape), "rows": n_rows},
        )
    return arr


def predict_proba_or_none(model: Any, X: pd.DataFrame) -> np.ndarray | None:
    fn = getattr(model, "predict_proba", None)
    if fn is None:
        return None
    proba = np.asarray(call_user(fn, "predict_proba(X)", X), dtype=float)
    if proba.ndim != 2 or proba.shape[0] != len(X):
        raise ModelCodeError(
            f"predict_proba(X) returned shape {proba.shape} for {len(X)} rows; "
            "it must return one row of class probabilities per input row."
        )
    return proba


def _split(X: pd.DataFrame, y: pd.Series | None, stratify: bool) -> tuple[Any, Any, Any, Any]:
    strat = None
    if stratify and y is not None:
        counts = y.value_counts()
        n_test = int(np.ceil(len(y) * TEST_FRACTION))
        if counts.min() >= 2 and n_test >= len(counts):
            strat = y
    if y is None:
        X_tr, X_te = train_test_split(X, test_size=TEST_FRACTION, random_state=SPLIT_SEED)
        return X_tr, X_te, None, None
    return tuple(train_test_split(X, y, test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=strat))


def _classes(y: pd.Series, label: str) -> list[Any]:
    classes = sorted(pd.unique(y).tolist(), key=lambda v: (str(type(v)), v))
    if len(classes) < 2:
        raise DataError(
            f"The label column {label!r} has only one value ({classes[0]!r}) in the training rows; "
            "a classifier needs at least two different classes. Check the train query's WHERE clause.",
            details={"label": label, "classes": [str(c) for c in classes]},
        )
    return classes


def fit_and_evaluate(
    code: str, X: pd.DataFrame, y: pd.Series | None, *, label: str | None, progress: Progress,
    log_limit: int = 200_000, capture: bool = True,
) -> FitResult:
    timings: dict[str, float] = {}
    notes: list[str] = []
    module = load_code_module(code)
    cls = model_class(module)
    declared = declared_task(cls)
    if declared in (TaskType.REGRESSION, TaskType.CLASSIFICATION) and y is None:
        raise DataError("This model needs a label column, but the train query has none. Set --label.")
    guess = detect_task(y, declared, has_proba=hasattr(cls, "predict_proba"))
    if guess is TaskType.CLASSIFICATION and y is not None:
        _classes(y, label or "label")
    holdout = len(X) >= MIN_HOLDOUT_ROWS
    with capture_output(log_limit) if capture else contextlib.nullcontext(Captured()) as captured:
        t0 = time.perf_counter()
        if holdout:
            progress("training on the holdout split", 0.3)
            X_tr, X_te, y_tr, y_te = _split(X, y, guess is TaskType.CLASSIFICATION)
        else:
            notes.append(
                f"Only {len(X)} training rows: metrics are measured on the training rows themselves "
                "and are optimistic."
            )
            X_tr, X_te, y_tr, y_te = X, X, y, y
        evaluator = call_user(cls, "Model()")
        call_user(evaluator.train, "train(X, y)", X_tr, y_tr)
        timings["holdout_fit"] = time.perf_counter() - t0
        progress("evaluating on the holdout rows", 0.5)
        preds = as_predictions(call_user(evaluator.predict, "predict(X)", X_te), len(X_te))
        proba = predict_proba_or_none(evaluator, X_te) if y is not None else None
        task = detect_task(y, declared, has_proba=proba is not None, predictions=preds)
        classes = _classes(y, label or "label") if task is TaskType.CLASSIFICATION and y is not None else None
        metrics, evaluation = _evaluate(task, X_te, y_te, preds, proba, classes)
        try:
            evaluation["feature_importance"] = feature_importance(evaluator, X_te, y_te, task)
        except Exception as exc:  # importance is a bonus: never fail a training over it
            notes.append(f"Feature importance could not be computed ({type(exc).__name__}: {exc}).")
        del evaluator
        progress("training on all rows", 0.6)
        t1 = time.perf_counter()
        final = call_user(cls, "Model()")
        call_user(final.train, "train(X, y)", X, y)
        timings["final_fit"] = time.perf_counter() - t1
    evaluation["split"] = {
        "method": "holdout" if holdout else "none",
        "test_fraction": TEST_FRACTION if holdout else 0.0,
        "seed": SPLIT_SEED,
        "train_rows": len(X_tr),
        "test_rows": len(X_te),
    }
    return FitResult(final, task, metrics, evaluation, classes, captured, timings, notes)


def _evaluate(
    task: TaskType, X_te: pd.DataFrame, y_te: pd.Series | None, preds: np.ndarray,
    proba: np.ndarray | None, classes: list[Any] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    evaluation: dict[str, Any] = {}
    if task is TaskType.CLUSTERING or y_te is None:
        numeric = X_te.select_dtypes("number")
        matrix = numeric.fillna(numeric.mean()).fillna(0).to_numpy() if not numeric.empty else None
        metrics = m.clustering_metrics(matrix, preds) if matrix is not None else {"n_clusters": len(set(preds.tolist()))}
        return metrics, evaluation
    if task is TaskType.REGRESSION:
        try:
            pred_f = preds.astype(float)
        except (TypeError, ValueError) as exc:
            raise ModelCodeError("predict(X) returned non-numeric values for a regression label.") from exc
        metrics = m.regression_metrics(y_te.to_numpy(dtype=float), pred_f)
        idx = np.linspace(0, len(pred_f) - 1, num=min(len(pred_f), 300)).astype(int)
        evaluation["predicted_vs_actual"] = {
            "actual": [float(v) for v in y_te.to_numpy(dtype=float)[idx]],
            "predicted": [float(v) for v in pred_f[idx]],
        }
        return metrics, evaluation
    assert classes is not None
    metrics = m.classification_metrics(y_te.to_numpy(), preds, proba, classes)
    if len(classes) <= 50:
        from sklearn.metrics import confusion_matrix

        matrix = confusion_matrix(y_te.to_numpy(dtype=object), preds.astype(object), labels=classes)
        evaluation["confusion_matrix"] = {"labels": [str(c) for c in classes], "matrix": matrix.tolist()}
    return metrics, evaluation
