"""The one predict path: rows in, checked predictions out.

A batch prediction's job child (``services.job_child``) and a serving worker
(``serving.worker``) both hold a ``LoadedModel`` and call its ``predict``: X is
built from the rows the same way (``features_frame``), ``predict(X)`` and
``predict_proba(X)`` are called the same way, and the answer is checked by
``checked_predictions``: one prediction per row, each a number, text, a boolean,
a date or NULL (NaN is NULL); one row of finite probabilities per row with one column
per class (``training.answers`` has the rules). Anything else is a ``ModelCodeError``
naming the problem and the rows.

Where the check runs follows who may be trusted. A job child checks its answer
(``LoadedModel.checked_predict``: its message names the rows, and what it sends is
plain values) and it crosses to the trusted supervisor as arrays, which checks them
again before anything is written (``prediction.batch``); a serving worker checks its
own answer before it becomes JSON, since the server only sees JSON.

Runs where user code may run. It opens no database and never sees a data-source
URL, a table name or id columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa

from softquery.artifacts import serialize
from softquery.data import FeatureSpec, frame_for_prediction
from softquery.errors import ModelCodeError
from softquery.training.answers import RowNames, predictions_of, probabilities_of
from softquery.training.fit import as_predictions, call_on_rows, predict_proba_or_none

Rows: TypeAlias = "pa.RecordBatch | pa.Table | np.ndarray"  # ndarray: float64, a column per feature
__all__ = ["QUERY_ROWS", "LoadedModel", "PredictSpec", "RowNames", "checked_predictions", "features_frame"]
QUERY_ROWS = "of the predict query's result (counting from 0)"  # how a batch prediction names rows



@dataclass
class PredictSpec:
    """What a job child gets to predict: the verified artifact and its code, the
    feature specs and classes — no source URL, no SQL, no output table."""

    version: int
    artifact: bytes          # already verified by the trusted parent
    code: str
    features: list[dict[str, Any]] = field(default_factory=list)   # FeatureSpec fields
    classes: list[Any] | None = None
    log_limit: int = 200_000
    capture_output: bool = True


def features_frame(features: list[FeatureSpec], parts: Sequence[Rows]) -> pd.DataFrame:
    """X as training built it, from one or more parts of the same kind. A float64 matrix
    (every feature a float column, as online serving sends it) becomes the DataFrame
    ``frame_for_prediction`` would give for it, without its per-column conversion cost;
    Arrow batches go through ``frame_for_prediction``."""
    if isinstance(parts[0], np.ndarray):
        matrix = parts[0] if len(parts) == 1 else np.vstack(parts)
        return pd.DataFrame(matrix, columns=[f.name for f in features])
    table = parts[0] if len(parts) == 1 else pa.Table.from_batches(parts).combine_chunks()
    return frame_for_prediction(table, features)


class LoadedModel:
    """A trained version, unpickled (its signature was verified by the trusted parent)."""

    def __init__(self, trained: Any, features: list[FeatureSpec], classes: list[Any] | None = None):
        self.trained = trained
        self.features = features
        self.classes = classes  # None: not known here (a serving worker; the server knows them)

    @classmethod
    def load(cls, artifact: bytes, code: str, features: list[dict[str, Any]],
             classes: list[Any] | None = None) -> LoadedModel:
        return cls(serialize.loads(artifact, code), [FeatureSpec(**f) for f in features], classes)

    @classmethod
    def of_spec(cls, spec: PredictSpec) -> LoadedModel:
        return cls.load(spec.artifact, spec.code, spec.features, spec.classes)

    def predict(self, rows: Rows | Sequence[Rows], want_proba: bool,
                named: RowNames | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """predict(X) (and predict_proba(X)) of the feature columns of ``rows``: one plain prediction
        per row (``training.answers``; ``named`` says how its messages name rows); the probabilities
        left out unless there is one column per known class."""
        X = features_frame(self.features, rows if isinstance(rows, list | tuple) else [rows])
        preds = as_predictions(call_on_rows(self.trained.predict, "predict(X)", X), len(X), named)
        proba = predict_proba_or_none(self.trained, X, named) if want_proba else None
        if proba is not None and self.classes is not None and proba.shape[1] != len(self.classes):
            proba = None  # one column per class or none: the output leaves them out
        return preds, proba

    def checked_predict(self, rows: Rows | Sequence[Rows], want_proba: bool,
                        named: RowNames | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """``predict`` with its answer checked here (``checked_predictions``)."""
        preds, proba = self.predict(rows, want_proba, named)
        width = None if self.classes is None else len(self.classes)
        return _checked_values(preds, len(preds), named), _checked_proba(proba, len(preds), width, named)


def checked_predictions(preds: Any, proba: Any, rows: int, classes: list[Any] | None,
                        named: RowNames | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """``(predictions, probabilities)`` as a job child sent them, validated for ``rows`` rows."""
    return _checked_values(preds, rows, named), _checked_proba(proba, rows, len(classes or []), named)


def _checked_values(preds: Any, rows: int, named: RowNames | None) -> np.ndarray:
    if type(preds) is not np.ndarray:
        raise ModelCodeError(f"The model code's predictions arrived as {type(preds).__name__}, "
                             "not as one array of predictions.")
    return predictions_of(preds, rows, named)


def _checked_proba(proba: Any, rows: int, width: int | None, named: RowNames | None) -> np.ndarray | None:
    """``width`` None: the classes are not known here (their count is checked where they are)."""
    if proba is None:
        return None
    if type(proba) is not np.ndarray or proba.dtype.kind != "f":
        shape = getattr(proba, "shape", None) if type(proba) is np.ndarray else None
        raise ModelCodeError(
            f"predict_proba(X) returned {type(proba).__name__} of shape {shape} for {rows} rows; "
            "it must return one row of class probabilities per input row.",
            details={"returned_shape": list(shape) if isinstance(shape, tuple) else None,
                     "rows": rows, "classes": width})
    return probabilities_of(proba, rows, width, named)
