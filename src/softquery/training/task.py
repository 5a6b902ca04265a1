"""Decide whether a model does regression, classification or clustering."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from softquery.domain import TaskType

MAX_INTEGER_CLASSES = 20


def declared_task(model_cls: Any) -> TaskType | None:
    value = getattr(model_cls, "task", None)
    try:
        return TaskType(value) if isinstance(value, str) else None
    except ValueError:
        return None


def label_is_categorical(y: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(y.dtype) and not pd.api.types.is_bool_dtype(y.dtype))


def _integer_valued(values: Any) -> bool:
    arr = np.asarray(values)
    if arr.dtype.kind in "iub":
        return True
    if arr.dtype.kind != "f":
        return False
    finite = arr[np.isfinite(arr)]
    return bool(np.all(finite == np.round(finite)))


def detect_task(
    y: pd.Series | None, declared: TaskType | None, *, has_proba: bool, predictions: Any = None
) -> TaskType:
    """Declared task first; else from the label's type and what the model predicts."""
    if declared is not None:
        return declared
    if y is None:
        return TaskType.CLUSTERING
    if label_is_categorical(y):
        return TaskType.CLASSIFICATION
    if not _integer_valued(y.to_numpy()) or y.nunique() > MAX_INTEGER_CLASSES:
        return TaskType.REGRESSION
    if has_proba:
        return TaskType.CLASSIFICATION
    if predictions is not None and _integer_valued(predictions):
        labels = set(pd.unique(y.dropna()).tolist())
        if set(np.unique(np.asarray(predictions)).tolist()) <= labels:
            return TaskType.CLASSIFICATION
    return TaskType.REGRESSION
