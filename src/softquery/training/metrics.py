"""Holdout metrics per task type, JSON-safe (no NaN)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn import metrics as skm

from softquery.domain import TaskType


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, float | np.floating):
            value = float(value)
            out[key] = None if math.isnan(value) or math.isinf(value) else round(value, 10)
        else:
            out[key] = value
    return out


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    return _clean({
        "r2": skm.r2_score(y_true, y_pred) if len(y_true) > 1 else float("nan"),
        "mae": skm.mean_absolute_error(y_true, y_pred),
        "rmse": math.sqrt(skm.mean_squared_error(y_true, y_pred)),
    })


def positive_class(classes: list[Any]) -> Any:
    """The class treated as positive in binary metrics: the last in sorted order."""
    return sorted(classes, key=str)[-1]


def _positions(values: np.ndarray, classes: list[Any]) -> np.ndarray:
    """Each value's position among ``classes`` (-1: no class)."""
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index.get(v, -1) for v in np.asarray(values, dtype=object).tolist()], dtype=np.int64)


def confusion(y_true: np.ndarray, y_pred: np.ndarray, classes: list[Any]) -> list[list[int]]:
    """Rows: the true class, columns: the predicted one, in the order of ``classes``."""
    true, pred = _positions(y_true, classes), _positions(y_pred, classes)
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    known = (true >= 0) & (pred >= 0)
    np.add.at(matrix, (true[known], pred[known]), 1)
    out: list[list[int]] = matrix.tolist()
    return out


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, classes: list[Any]
) -> dict[str, Any]:
    """Metrics over the classes' positions (0, 1, ...), so classes of any type (text, integers,
    a boolean label's 0.0 / 1.0) are measured alike; a prediction that is no class counts as wrong."""
    true, pred = _positions(y_true, classes), _positions(y_pred, classes)
    labels = list(range(len(classes)))
    binary = len(classes) == 2
    pos_index = classes.index(positive_class(classes)) if binary else None
    kwargs: dict[str, Any] = {"average": "binary" if binary else "macro", "zero_division": 0, "labels": labels}
    if pos_index is not None:
        kwargs["pos_label"] = pos_index
    result: dict[str, Any] = {
        "accuracy": skm.accuracy_score(true, pred),
        "precision": skm.precision_score(true, pred, **kwargs),
        "recall": skm.recall_score(true, pred, **kwargs),
        "f1": skm.f1_score(true, pred, **kwargs),
    }
    if proba is not None and proba.ndim == 2 and proba.shape[1] == len(classes):
        present = set(true.tolist())
        if pos_index is not None and len(present) == 2:
            result["roc_auc"] = skm.roc_auc_score(true == pos_index, proba[:, pos_index])
        if present <= set(labels):
            result["log_loss"] = skm.log_loss(true, np.clip(proba, 1e-15, 1.0), labels=labels)
    return _clean(result)


def clustering_metrics(X: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    labels = np.asarray(labels)
    n_clusters = len(set(labels.tolist()))
    result: dict[str, Any] = {"n_clusters": n_clusters}
    if 1 < n_clusters < len(labels):
        sample = min(len(labels), 5000)
        result["silhouette"] = skm.silhouette_score(X, labels, sample_size=sample, random_state=0)
    return _clean(result)


def key_metric(task: TaskType, metrics: dict[str, Any]) -> float | None:
    value = metrics.get(task.key_metric)
    return float(value) if isinstance(value, int | float) else None
