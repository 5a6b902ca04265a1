"""Build the output rows of a prediction: ids, prediction, probabilities, provenance."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from softquery.training.metrics import positive_class

RESERVED = ("prediction", "probability", "model_version", "run_id", "predicted_at")


def probability_column(cls: Any) -> str:
    """``probability_<class>`` made into a safe identifier."""
    safe = re.sub(r"[^A-Za-z0-9_]", "_", str(cls)).strip("_") or "class"
    return f"probability_{safe}"[:63]


def _array(values: np.ndarray) -> pa.Array:
    if values.dtype.kind == "O":
        return pa.array(values.tolist())
    if values.dtype.kind == "U":
        return pa.array(values.astype(object).tolist(), type=pa.string())
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
        if len(classes) == 2:
            pos = classes.index(positive_class(classes))
            arrays.append(pa.array(proba[:, pos], type=pa.float64()))
            names.append("probability")
        else:
            for i, cls in enumerate(classes):
                arrays.append(pa.array(proba[:, i], type=pa.float64()))
                names.append(probability_column(cls))
    n = batch.num_rows
    arrays.append(pa.array(np.full(n, version, dtype=np.int64)))
    names.append("model_version")
    arrays.append(pa.array([run_id] * n, type=pa.string()))
    names.append("run_id")
    arrays.append(pa.array(np.full(n, np.datetime64(predicted_at.replace(tzinfo=None), "us")),
                           type=pa.timestamp("us", tz="UTC")))
    names.append("predicted_at")
    return pa.RecordBatch.from_arrays(arrays, names=names)
