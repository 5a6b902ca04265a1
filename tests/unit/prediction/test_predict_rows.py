"""The one predict path (prediction/predict_rows.py), as a serving worker and a job child call it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from softquery.data import FeatureSpec
from softquery.errors import ModelCodeError
from softquery.prediction.predict_rows import LoadedModel, features_frame

FEATURES = [FeatureSpec("a", "double", "numeric"), FeatureSpec("b", "double", "numeric")]


class Trained:
    def __init__(self, proba: Any = None, preds: Any = None):
        self.proba, self.preds = proba, preds

    def predict(self, X: pd.DataFrame) -> Any:
        return self.preds if self.preds is not None else X["a"].to_numpy() + X["b"].to_numpy()

    def predict_proba(self, X: pd.DataFrame) -> Any:
        return self.proba if self.proba is not None else np.full((len(X), 2), 0.5)


def test_a_float_matrix_gives_the_frame_an_arrow_batch_gives() -> None:
    matrix = np.array([[1.0, 2.0], [3.0, np.nan]])
    batch = pa.record_batch({"a": [1.0, 3.0], "b": [2.0, None]})
    pd.testing.assert_frame_equal(features_frame(FEATURES, [matrix]), features_frame(FEATURES, [batch]))
    two = features_frame(FEATURES, [batch, batch])
    assert len(two) == 4 and list(two.columns) == ["a", "b"]


def test_serving_and_job_child_predict_the_same_way() -> None:
    rows = np.array([[1.0, 2.0], [3.0, 4.0]])
    serving = LoadedModel(Trained(), FEATURES)  # a serving worker does not know the classes
    preds, proba = serving.checked_predict([rows, rows[:1]], want_proba=True)
    assert preds.tolist() == [3.0, 7.0, 3.0] and proba is not None and proba.shape == (3, 2)
    child = LoadedModel(Trained(), FEATURES, classes=["x", "y"])
    child_preds, child_proba = child.predict(pa.record_batch({"a": [1.0, 3.0], "b": [2.0, 4.0]}), True)
    assert child_preds.tolist() == [3.0, 7.0] and child_proba is not None
    # one probability column per known class, or none
    assert LoadedModel(Trained(), FEATURES, classes=["x", "y", "z"]).predict(rows, True)[1] is None


@pytest.mark.parametrize(("trained", "message"), [
    (Trained(proba=np.array([[0.5, np.nan], [0.5, 0.5]])), "NaN or infinite"),
    (Trained(preds=np.array([1 + 2j, 2])), "complex128"),
    (Trained(preds=np.array([1, {"a": 1}], dtype=object)), "type dict"),
])
def test_a_serving_worker_checks_its_answer(trained: Trained, message: str) -> None:
    with pytest.raises(ModelCodeError, match=message):
        LoadedModel(trained, FEATURES).checked_predict(np.array([[1.0, 2.0], [3.0, 4.0]]), want_proba=True)
