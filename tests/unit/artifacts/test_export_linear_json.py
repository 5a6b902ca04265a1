"""JSON export of linear models: predictions must be reproducible with plain numpy."""

from __future__ import annotations

import json
import sys
import types
from typing import Any

import numpy as np
import pandas as pd
import pytest

from softquery.artifacts.export_json import export_linear_model
from softquery.errors import InvalidInputError
from softquery.modelcode.templates import template_code

SEED_TEMPLATE = """
from sklearn.linear_model import LinearRegression

class Model:
    def __init__(self):
        self.m = LinearRegression()
    def train(self, X, y):
        self.m.fit(X, y)
    def predict(self, X):
        return self.m.predict(X)
"""


def load_model(name: str, code: str) -> Any:
    module = types.ModuleType(f"sq_export_test_{name}")
    sys.modules[module.__name__] = module
    exec(compile(code, f"{name}.py", "exec"), module.__dict__)  # noqa: S102
    return module.__dict__["Model"]()


def houses(n: int = 60, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    size = rng.normal(100, 20, n)
    size[::6] = np.nan
    city = rng.choice(["paris", "lyon", "nice"], n).astype(object)
    city[::4] = None
    frame = pd.DataFrame({"size": size, "rooms": rng.integers(1, 6, n), "city": city})
    bonus = frame["city"].map({"paris": 50.0, "lyon": -20.0}).fillna(5.0)
    y = 2.0 * frame["size"].fillna(90.0) + 7.0 * frame["rooms"] + bonus + rng.normal(0, 1, n)
    return frame, y


def features_by_hand(doc: dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    """Apply the exported preprocessing with plain numpy, as an app developer would."""
    prep = doc["preprocessing"]
    if prep is None:
        return frame[doc["input_columns"]].to_numpy(dtype=float)
    blocks = []
    for column in prep["columns"]:
        values = frame[column["name"]].tolist()
        if column["kind"] == "numeric":
            mean, scale = column["mean"][0], column["scale"][0]
            x = np.array([mean if v is None or v != v else float(v) for v in values])
            blocks.append(((x - mean) / scale).reshape(-1, 1))
        elif column["kind"] == "categorical":
            keys = [None if v is None or v != v else str(v) for v in values]
            blocks.append(np.array([[1.0 if k == c else 0.0 for c in column["categories"]] for k in keys]))
        else:
            raise AssertionError(f"kind {column['kind']} not expected in this test")
    return np.hstack(blocks)


def test_linear_regression_export_reproduces_predictions() -> None:
    X, y = houses()
    model = load_model("linear_regression", template_code("linear_regression"))
    model.train(X, y)
    doc = json.loads(json.dumps(export_linear_model(model)))
    assert doc["format"] == "softquery-linear/1"
    assert doc["estimator"] == "LinearRegression" and doc["task"] == "regression"
    assert doc["input_columns"] == ["size", "rooms", "city"]
    assert doc["feature_names"] == ["size", "rooms", "city=lyon", "city=nice", "city=paris", "city=NULL"]
    new, _ = houses(n=12, seed=3)
    new = new[["city", "rooms", "size"]]
    by_hand = features_by_hand(doc, new) @ np.array(doc["coefficients"]) + doc["intercept"]
    np.testing.assert_allclose(by_hand, model.predict(new), rtol=1e-9, atol=1e-9)


def test_logistic_regression_binary_and_multiclass() -> None:
    X, y = houses(n=90)
    for labels in (np.where(y > y.median(), "high", "low"), pd.qcut(y, 3, labels=["a", "b", "c"]).astype(str)):
        model = load_model("logistic_regression", template_code("logistic_regression"))
        model.train(X, pd.Series(labels))
        doc = json.loads(json.dumps(export_linear_model(model)))
        assert doc["task"] == "classification" and doc["estimator"] == "LogisticRegression"
        features = features_by_hand(doc, X)
        if doc["link"] == "logistic":
            score = features @ np.array(doc["coefficients"]) + doc["intercept"]
            p1 = 1 / (1 + np.exp(-score))
            proba = np.column_stack([1 - p1, p1])
        else:
            assert doc["link"] == "softmax" and len(doc["coefficients"]) == 3
            scores = features @ np.array(doc["coefficients"]).T + np.array(doc["intercept"])
            exp = np.exp(scores - scores.max(axis=1, keepdims=True))
            proba = exp / exp.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-9)
        predicted = np.array(doc["classes"])[proba.argmax(axis=1)]
        np.testing.assert_array_equal(predicted, model.predict(X))


def test_seed_bare_linear_regression() -> None:
    X, y = houses()
    X = X[["rooms"]].assign(area=X["size"].fillna(100.0))
    model = load_model("seed", SEED_TEMPLATE)
    model.train(X, y)
    doc = json.loads(json.dumps(export_linear_model(model)))
    assert doc["preprocessing"] is None
    assert doc["input_columns"] == doc["feature_names"] == ["rooms", "area"]
    by_hand = features_by_hand(doc, X) @ np.array(doc["coefficients"]) + doc["intercept"]
    np.testing.assert_allclose(by_hand, model.predict(X))


def test_non_linear_model_is_refused_with_its_name() -> None:
    X, y = houses()
    model = load_model("random_forest_regressor", template_code("random_forest_regressor"))
    model.train(X, y)
    with pytest.raises(InvalidInputError) as info:
        export_linear_model(model)
    assert "linear" in info.value.message and "RandomForestRegressor" in info.value.message
    assert info.value.details["estimator"] == "RandomForestRegressor"


def test_untrained_or_empty_model_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="train"):
        export_linear_model(load_model("untrained", template_code("ridge_regression")))
    with pytest.raises(InvalidInputError, match="no scikit-learn model"):
        export_linear_model(types.SimpleNamespace(threshold=0.5))
