"""The one predict path: rows in, checked predictions out.

A batch prediction's job child (``services.job_child``) and a serving worker
(``serving.worker``) both hold a ``LoadedModel`` and call its ``predict``: X is
built from the rows the same way (``features_frame``), ``predict(X)`` and
``predict_proba(X)`` are called the same way, and the answer is checked by
``checked_predictions``: one prediction per row, each a number, text, a boolean
or NULL; one row of finite probabilities per row with one column per class.
Anything else is a ``ModelCodeError``.

Where the check runs follows who may be trusted. A job child's answer crosses
to the trusted supervisor as arrays, which checks it there before anything is
written (``prediction.batch``); a serving worker checks its own answer before it
becomes JSON (``LoadedModel.checked_predict``), since the server only sees JSON.

Runs where user code may run. It opens no database and never sees a data-source
URL, a table name or id columns.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa

from softquery.artifacts import serialize
from softquery.data import FeatureSpec, frame_for_prediction
from softquery.errors import ModelCodeError
from softquery.training.fit import as_predictions, call_user, predict_proba_or_none

Rows: TypeAlias = "pa.RecordBatch | pa.Table | np.ndarray"  # ndarray: float64, a column per feature

_SCALARS = (str, bytes, bool, int, float, decimal.Decimal, datetime.date, datetime.time,
            datetime.timedelta, np.generic, type(None))
_KINDS = "biufUSOMm"  # no structured, void or complex values


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

    def predict(self, rows: Rows | Sequence[Rows], want_proba: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """predict(X) (and predict_proba(X)) of the feature columns of ``rows``: one prediction
        per row; the probabilities left out unless there is one column per known class."""
        X = features_frame(self.features, rows if isinstance(rows, list | tuple) else [rows])
        preds = as_predictions(call_user(self.trained.predict, "predict(X)", X), len(X))
        proba = predict_proba_or_none(self.trained, X) if want_proba else None
        if proba is not None and self.classes is not None and proba.shape[1] != len(self.classes):
            proba = None  # one column per class or none: the output leaves them out
        return preds, proba

    def checked_predict(self, rows: Rows | Sequence[Rows],
                        want_proba: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """``predict`` with its answer checked here (``checked_predictions``)."""
        preds, proba = self.predict(rows, want_proba)
        width = None if self.classes is None else len(self.classes)
        return _checked_values(preds, len(preds)), _checked_proba(proba, len(preds), width)


def checked_predictions(preds: Any, proba: Any, rows: int,
                        classes: list[Any] | None) -> tuple[np.ndarray, np.ndarray | None]:
    """``(predictions, probabilities)`` as a job child sent them, validated for ``rows`` rows."""
    return _checked_values(preds, rows), _checked_proba(proba, rows, len(classes or []))


def _checked_values(preds: Any, rows: int) -> np.ndarray:
    if type(preds) is not np.ndarray:
        raise ModelCodeError(f"The model code's predictions arrived as {type(preds).__name__}, "
                             "not as one array of predictions.")
    preds = as_predictions(preds, rows)
    if preds.dtype.kind not in _KINDS:
        raise ModelCodeError(f"predict(X) returned values of type {preds.dtype}; each prediction must be "
                             "a number, text, a boolean or NULL.", details={"dtype": str(preds.dtype)})
    if preds.dtype.kind == "O":
        odd = next((v for v in preds.tolist() if not isinstance(v, _SCALARS)), None)
        if odd is not None:
            raise ModelCodeError(f"predict(X) returned a value of type {type(odd).__name__}; each prediction "
                                 "must be a number, text, a boolean or NULL.",
                                 details={"type": type(odd).__name__})
    checked: np.ndarray = preds
    return checked


def _checked_proba(proba: Any, rows: int, width: int | None) -> np.ndarray | None:
    """``width`` None: the classes are not known here (their count is checked where they are)."""
    if proba is None:
        return None
    if (type(proba) is not np.ndarray or proba.dtype.kind != "f" or proba.ndim != 2
            or proba.shape != (rows, proba.shape[1] if width is None else width)):
        shape = getattr(proba, "shape", None)
        classes = "" if width is None else f" and {width} classes"
        raise ModelCodeError(
            f"predict_proba(X) returned {type(proba).__name__} of shape {shape} for {rows} rows{classes}; "
            "it must return one row of class probabilities per input row.",
            details={"returned_shape": list(shape) if isinstance(shape, tuple) else None,
                     "rows": rows, "classes": width})
    if not np.isfinite(proba).all():
        raise ModelCodeError("predict_proba(X) returned NaN or infinite probabilities; every probability "
                             "must be a finite number.", details={"rows": rows})
    return proba
