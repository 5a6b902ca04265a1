"""Fitting user code: metrics per task, captured output, user errors, round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from softquery.domain import TaskType
from softquery.errors import DataError, ModelCodeError, TrainingError
from softquery.modelcode.templates import template_code
from softquery.training.fit import fit_and_evaluate
from softquery.training.roundtrip import save_and_check

SEED_CODE = (
    "from sklearn.linear_model import LinearRegression\n"
    "\n"
    "class Model:\n"
    "    def __init__(self):\n"
    "        self.m = LinearRegression()\n"
    "    def train(self, X, y):\n"
    "        print('training on', len(X), 'rows')\n"
    "        self.m.fit(X, y)\n"
    "    def predict(self, X):\n"
    "        return self.m.predict(X)\n"
)


def _noop(_phase: str, _fraction: float | None, _detail: str = "") -> None:
    return None


def _regression(n: int = 200) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"price": rng.uniform(1, 10, n)})
    y = pd.Series(3 * X["price"] + rng.normal(0, 0.1, n), name="quality")
    return X, y


def test_regression_metrics_and_final_fit_on_all_rows() -> None:
    X, y = _regression()
    result = fit_and_evaluate(SEED_CODE, X, y, label="quality", progress=_noop)
    assert result.task is TaskType.REGRESSION
    assert result.metrics["r2"] > 0.99
    assert set(result.metrics) == {"r2", "mae", "rmse"}
    reference = LinearRegression().fit(X, y)
    np.testing.assert_allclose(result.model.predict(X), reference.predict(X))
    assert "training on 160 rows" in result.output.stdout
    assert "training on 200 rows" in result.output.stdout
    assert result.evaluation["split"]["test_rows"] == 40


def test_binary_classification_metrics() -> None:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = pd.Series(np.where(X["a"] + X["b"] > 0, "yes", "no"))
    result = fit_and_evaluate(template_code("logistic_regression"), X, y, label="y", progress=_noop)
    assert result.task is TaskType.CLASSIFICATION
    assert result.classes == ["no", "yes"]
    assert {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"} <= set(result.metrics)
    assert result.metrics["accuracy"] > 0.9
    assert result.evaluation["confusion_matrix"]["labels"] == ["no", "yes"]


def test_single_class_is_refused() -> None:
    X = pd.DataFrame({"a": range(30)})
    y = pd.Series(["yes"] * 30)
    with pytest.raises(DataError, match="only one value"):
        fit_and_evaluate(template_code("logistic_regression"), X, y, label="fan", progress=_noop)


def test_exception_in_train_shows_the_users_line() -> None:
    code = (
        "class Model:\n"
        "    def train(self, X, y):\n"
        "        total = 0\n"
        "        raise ValueError('bad column')\n"
        "    def predict(self, X):\n"
        "        return [0] * len(X)\n"
    )
    X, y = _regression(30)
    with pytest.raises(ModelCodeError) as info:
        fit_and_evaluate(code, X, y, label="quality", progress=_noop)
    assert "ValueError: bad column" in info.value.message
    assert "line 4, in train" in info.value.message
    assert info.value.details["line"] == 4


def test_predict_returning_wrong_number_of_rows() -> None:
    code = (
        "class Model:\n"
        "    def train(self, X, y):\n        pass\n"
        "    def predict(self, X):\n        return [1.0, 2.0]\n"
    )
    X, y = _regression(50)
    with pytest.raises(ModelCodeError, match="exactly one prediction per row"):
        fit_and_evaluate(code, X, y, label="quality", progress=_noop)


def test_seed_class_attribute_pitfall_fails_round_trip_with_explanation() -> None:
    code = (
        "from sklearn.linear_model import LinearRegression\n"
        "class Model:\n"
        "    m = LinearRegression()\n"
        "    def train(self, X, y):\n        self.m.fit(X, y)\n"
        "    def predict(self, X):\n        return self.m.predict(X)\n"
    )
    X, y = _regression(50)
    result = fit_and_evaluate(code, X, y, label="quality", progress=_noop)
    with pytest.raises(TrainingError) as info:
        save_and_check(result.model, code, X)
    assert "round-trip check failed" in info.value.message
    assert "class attribute" in info.value.message


def test_unpicklable_state_is_explained() -> None:
    code = (
        "class Model:\n"
        "    def train(self, X, y):\n        self.f = lambda v: v\n"
        "    def predict(self, X):\n        return [0.0] * len(X)\n"
    )
    X, y = _regression(30)
    result = fit_and_evaluate(code, X, y, label="quality", progress=_noop)
    with pytest.raises(TrainingError, match="could not be saved"):
        save_and_check(result.model, code, X)


def test_integer_label_with_regressor_is_regression() -> None:
    X, y = _regression(100)
    y = y.round().astype("int64")
    result = fit_and_evaluate(SEED_CODE, X, y, label="quality", progress=_noop)
    assert result.task is TaskType.REGRESSION


def test_feature_importance_ranks_the_informative_column_first() -> None:
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"noise": rng.normal(size=300), "signal": rng.normal(size=300)})
    y = pd.Series(5 * X["signal"] + rng.normal(0, 0.1, 300))
    result = fit_and_evaluate(template_code("linear_regression"), X, y, label="y", progress=_noop)
    ranked = result.evaluation["feature_importance"]
    assert [r["feature"] for r in ranked] == ["signal", "noise"]
    assert ranked[0]["importance"] > 0.5 > abs(ranked[1]["importance"])


def test_whole_number_mean_on_a_tiny_table_is_still_regression() -> None:
    code = (
        "class Model:\n"
        "    def train(self, X, y):\n        self.mean = float(sum(y)) / len(y)\n"
        "    def predict(self, X):\n        return [self.mean] * len(X)\n"
    )
    X = pd.DataFrame({"x": [float(i) for i in range(10)]})
    y = pd.Series([2 * i + 1 for i in range(10)])
    result = fit_and_evaluate(code, X, y, label="y", progress=_noop)
    assert result.task is TaskType.REGRESSION
