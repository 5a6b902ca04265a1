"""A trained version loaded in a job child, predicting the batches it is handed.

Runs where user code may run (a job child). It opens no database and never
sees a data-source URL, a table name or id columns: the trusted supervisor
reads the predict query, sends only the feature columns, and builds and
writes the output rows itself (``softquery.prediction.batch``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from softquery.artifacts import serialize
from softquery.data import FeatureSpec, frame_for_prediction
from softquery.training.fit import as_predictions, call_user, predict_proba_or_none


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


class LoadedModel:
    def __init__(self, spec: PredictSpec):
        self.trained = serialize.loads(spec.artifact, spec.code)
        self.features = [FeatureSpec(**f) for f in spec.features]
        self.classes = spec.classes

    def predict(self, batch: pa.RecordBatch, want_proba: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """predict(X) (and predict_proba(X)) of the feature columns in ``batch``."""
        X = frame_for_prediction(batch, self.features)
        preds = as_predictions(call_user(self.trained.predict, "predict(X)", X), len(X))
        proba = predict_proba_or_none(self.trained, X) if want_proba else None
        if proba is not None and (not self.classes or proba.shape[1] != len(self.classes)):
            proba = None  # one column per class or none: the output leaves them out
        return preds, proba
