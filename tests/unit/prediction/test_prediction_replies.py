"""The supervisor's checks of what a job child answers to a predict request."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from softquery.errors import ModelCodeError
from softquery.prediction.predict_rows import checked_predictions


def test_good_answers_pass_unchanged() -> None:
    preds = np.array([1.0, 2.0, 3.0])
    proba = np.array([[0.1, 0.9], [0.5, 0.5], [1.0, 0.0]])
    out, out_proba = checked_predictions(preds, proba, 3, ["a", "b"])
    assert out is preds and out_proba is proba
    labels, none = checked_predictions(np.array(["a", None, "b"], dtype=object), None, 3, ["a", "b"])
    assert labels.tolist() == ["a", None, "b"] and none is None
    column, _ = checked_predictions(np.array([[1], [2]]), None, 2, None)
    assert column.tolist() == [1, 2]


@pytest.mark.parametrize(("preds", "message"), [
    ([1.0, 2.0, 3.0], "not as one array"),
    (np.array([1.0, 2.0]), "returned 2 value"),
    (np.zeros((3, 2)), "shape"),
    (np.array([1 + 2j, 2, 3]), "complex128"),
    (np.zeros(3, dtype=[("a", "i4")]), "each prediction must be"),
    (np.array([1, [1, 2], 3], dtype=object), "type list"),
    (np.array([1, {"a": 1}, 3], dtype=object), "type dict"),
])
def test_bad_predictions_are_the_model_codes_error(preds: Any, message: str) -> None:
    with pytest.raises(ModelCodeError, match=message):
        checked_predictions(preds, None, 3, None)


@pytest.mark.parametrize(("proba", "classes", "message"), [
    (np.zeros((2, 2)), ["a", "b"], "shape"),
    (np.zeros((3, 3)), ["a", "b"], "2 classes"),
    (np.zeros((3, 2)), None, "0 classes"),
    (np.zeros((3, 2), dtype=int), ["a", "b"], "one row of class probabilities"),
    ([[0.5, 0.5]] * 3, ["a", "b"], "list"),
    (np.array([[0.5, np.nan]] * 3), ["a", "b"], "NaN or infinite"),
    (np.array([[0.5, np.inf]] * 3), ["a", "b"], "NaN or infinite"),
])
def test_bad_probabilities_are_the_model_codes_error(proba: Any, classes: Any, message: str) -> None:
    with pytest.raises(ModelCodeError, match=message):
        checked_predictions(np.array([1, 2, 3]), proba, 3, classes)
