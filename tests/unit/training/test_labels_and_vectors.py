"""Labels and vectors as analysts have them: an empty-text label is unknown (dropped, counted in
a note), a vector cell is a numpy array, and a fit that fails on one says how to use it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from softquery.data import build_training_set
from softquery.errors import DataError, ModelCodeError
from softquery.modelcode.templates import template_code
from softquery.training.fit import fit_and_evaluate


def _noop(*_args: object) -> None:
    return None


def test_empty_and_blank_labels_are_dropped_like_null() -> None:
    table = pa.table({"x": [float(i) for i in range(8)],
                      "label": ["yes", "", "no", None, "  ", "yes", "no", ""]})
    ts = build_training_set(table, label="label", id_columns=[])
    assert ts.y is not None and ts.y.tolist() == ["yes", "no", "yes", "no"]
    assert ts.X["x"].tolist() == [0.0, 2.0, 5.0, 6.0]
    assert ts.notes == ["Dropped 1 row(s) where the label 'label' is NULL and 3 where it is empty text "
                        "('' means unknown, like NULL); trained on 4."]
    only_empty = build_training_set(pa.table({"x": [1.0, 2.0, 3.0], "label": ["a", "", "b"]}),
                                    label="label", id_columns=[])
    assert only_empty.notes == ["Dropped 1 row(s) where the label 'label' is empty text ('' means unknown, "
                                "like NULL); trained on 2."]
    with pytest.raises(DataError, match="NULL or empty text in every row"):
        build_training_set(pa.table({"x": [1.0, 2.0], "label": ["", None]}), label="label", id_columns=[])


def test_a_large_string_label_too() -> None:
    table = pa.table({"x": [1.0, 2.0, 3.0], "label": pa.array(["a", "", "b"], pa.large_string())})
    assert build_training_set(table, label="label", id_columns=[]).row_count == 2


def _vectors(n: int = 40) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(n, 3))
    table = pa.table({"emb": pa.array(values.tolist(), pa.list_(pa.float64())),
                      "note": ["[1, 2]"] * n, "y": values @ np.array([1.0, 2.0, -1.0])})
    ts = build_training_set(table, label="y", id_columns=[])
    assert ts.y is not None
    return ts.X, ts.y


def test_vector_cells_are_numpy_arrays() -> None:
    X, _ = _vectors()
    assert all(type(v) is np.ndarray and v.dtype == np.float64 and v.shape == (3,) for v in X["emb"])
    assert all(type(v) is np.ndarray for v in X["note"])  # JSON text arrays too
    assert np.stack(X["emb"]).shape == (len(X), 3)


def test_a_fit_failing_on_vectors_names_the_column_and_the_way_out() -> None:
    X, y = _vectors()
    naive = ("from sklearn.linear_model import LinearRegression\n\nclass Model:\n"
             "    def __init__(self):\n        self.m = LinearRegression()\n"
             "    def train(self, X, y):\n        self.m.fit(X, y)\n"
             "    def predict(self, X):\n        return self.m.predict(X)\n")
    with pytest.raises(ModelCodeError) as info:
        fit_and_evaluate(naive, X, y, label="y", progress=_noop, capture=False)
    message = info.value.message
    assert message.startswith("Your model code raised")  # the user's own error first
    assert "Columns 'emb', 'note' hold vectors" in message
    assert "np.stack(X['emb'])" in message and "AutoPreprocessor" in message
    assert info.value.details["vector_columns"] == ["emb", "note"]
    # the template (AutoPreprocessor) takes them as they are
    fitted = fit_and_evaluate(template_code("linear_regression"), X, y, label="y", progress=_noop, capture=False)
    assert fitted.metrics["r2"] > 0.99


@pytest.mark.parametrize("label", [
    pa.array([i % 3 == 0 for i in range(60)]),          # a boolean label: classes 0.0 and 1.0
    pa.array([i % 3 for i in range(60)]),               # integer classes
])
def test_integer_and_boolean_labels_are_measured(label: pa.Array) -> None:
    """scikit-learn's metrics refuse object arrays of numbers ("unknown is not supported"):
    they are measured over the classes' positions."""
    x = [float(i % 3) + 0.1 * (i % 7) for i in range(60)]
    ts = build_training_set(pa.table({"x": x, "y": label}), label="y", id_columns=[])
    assert ts.y is not None
    fit = fit_and_evaluate(template_code("logistic_regression"), ts.X, ts.y, label="y", progress=_noop,
                           capture=False)
    assert fit.metrics["accuracy"] > 0.9 and "f1" in fit.metrics
    assert sum(map(sum, fit.evaluation["confusion_matrix"]["matrix"])) == 12
