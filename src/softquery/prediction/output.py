"""Build the output rows of a prediction: ids, prediction, probabilities, provenance.

A prediction that is NULL (None, or NaN for numbers: the model has no answer for that
row) is written as NULL. The probability columns name their class:
``probability_<class>`` (``probability_columns``), for two classes the positive one's.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from softquery.training.metrics import positive_class

RESERVED = ("prediction", "probability", "model_version", "run_id", "predicted_at")


def _class_text(cls: Any) -> str:
    """A class as a column name shows it: a whole float as an integer (1.0 -> "1", a boolean label)."""
    if isinstance(cls, float) and cls.is_integer():
        return str(int(cls))
    return str(cls)


def probability_columns(classes: list[Any]) -> list[str]:
    """``probability_<class>`` per class, each a safe identifier (``identifiers``: letters, digits
    and underscores, at most 63 characters): other characters become ``_`` ("is spam" ->
    ``probability_is_spam``), and a name already taken (compared without case, as SQLite and
    unquoted SQL do) gets ``_2``, ``_3``... in the order of the classes. Deterministic: the same
    classes always give the same names."""
    names: list[str] = []
    taken: set[str] = set()
    for cls in classes:
        safe = re.sub(r"[^A-Za-z0-9_]", "_", _class_text(cls)).strip("_") or "class"
        base = f"probability_{safe}"[:63]
        name, n = base, 2
        while name.lower() in taken:
            suffix = f"_{n}"
            name, n = base[:63 - len(suffix)] + suffix, n + 1
        taken.add(name.lower())
        names.append(name)
    return names


def probability_column(cls: Any, classes: list[Any] | None = None) -> str:
    """The column of ``cls``'s probability among ``classes`` (default: it alone)."""
    classes = classes if classes is not None else [cls]
    return probability_columns(classes)[classes.index(cls)]


def output_probability_columns(classes: list[Any] | None) -> list[str]:
    """The probability columns a prediction of a version with ``classes`` writes: two classes,
    the positive one's (the last in sorted order); more, one per class."""
    if not classes:
        return []
    if len(classes) == 2:
        return [probability_column(positive_class(classes), classes)]
    return probability_columns(classes)


def legacy_names(classes: list[Any] | None) -> dict[str, str]:
    """Output column -> the name earlier releases gave it, where they differ: a binary
    classifier's probability column was ``probability``; with more classes a whole float
    class kept its ``.0`` (``probability_1_0``). Appending to a table written then keeps its
    columns (``prediction.table_writer``)."""
    if not classes:
        return {}
    if len(classes) == 2:
        return {output_probability_columns(classes)[0]: "probability"}
    old = [f"probability_{re.sub(r'[^A-Za-z0-9_]', '_', str(c)).strip('_') or 'class'}"[:63] for c in classes]
    return {new: was for new, was in zip(probability_columns(classes), old, strict=True) if new != was}


def _array(values: np.ndarray) -> pa.Array:
    if values.dtype.kind == "O":
        return pa.array(values.tolist())
    if values.dtype.kind == "U":
        return pa.array(values.astype(object).tolist(), type=pa.string())
    if values.dtype.kind == "f":
        return pa.array(values, from_pandas=True)  # NaN: no prediction, written as NULL
    return pa.array(values)


def output_batch(
    batch: pa.RecordBatch,
    *,
    id_columns: list[str],
    predictions: np.ndarray,
    proba: np.ndarray | None,
    classes: list[Any] | None,
    version: int,
    run_id: str,
    predicted_at: datetime,
) -> pa.RecordBatch:
    keep = id_columns or batch.schema.names
    arrays: list[pa.Array] = []
    names: list[str] = []
    for name in keep:
        out_name = f"{name}_input" if name in RESERVED or name.startswith("probability_") else name
        arrays.append(batch.column(name))
        names.append(out_name)
    arrays.append(_array(predictions))
    names.append("prediction")
    if proba is not None and classes and proba.shape[1] == len(classes):
        columns = output_probability_columns(classes)
        indexes = [classes.index(positive_class(classes))] if len(classes) == 2 else list(range(len(classes)))
        for i, name in zip(indexes, columns, strict=True):
            arrays.append(pa.array(proba[:, i], type=pa.float64()))
            names.append(name)
    n = batch.num_rows
    arrays.append(pa.array(np.full(n, version, dtype=np.int64)))
    names.append("model_version")
    arrays.append(pa.array([run_id] * n, type=pa.string()))
    names.append("run_id")
    arrays.append(pa.array(np.full(n, np.datetime64(predicted_at.replace(tzinfo=None), "us")),
                           type=pa.timestamp("us", tz="UTC")))
    names.append("predicted_at")
    return pa.RecordBatch.from_arrays(arrays, names=names)
