"""Whatever predict() returns ends as a prediction or a model_code_error naming the problem
and the rows, never an internal error: in training's holdout check (fit, metrics, round
trip) as in prediction (the job child's check, the supervisor's check, the output table's
rows, a serving worker's JSON). README Concepts: "What predict() may return"."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.training.model_answers import RECIPES, Recipe

from softquery.errors import ModelCodeError, SoftqueryError
from softquery.prediction.output import output_batch
from softquery.prediction.predict_rows import QUERY_ROWS, LoadedModel, RowNames, checked_predictions
from softquery.serving.worker import _as_list
from softquery.training.answers import predictions_of, probabilities_of
from softquery.training.fit import fit_and_evaluate
from softquery.training.roundtrip import save_and_check

HOOK = "softquery_test_answers_hook"
CODE = (
    "import sys\n\n"
    "class Model:\n"
    "    def __init__(self):\n"
    "        self.fitted = False\n"
    "    def train(self, X, y):\n"
    "        self.fitted = True\n"
    f"    def predict(self, X):\n"
    f"        return sys.modules[{HOOK!r}].answer(X)\n"
)
ROWS = 25  # 20 train + 5 holdout rows


def _noop(*_args: Any) -> None:
    return None


@pytest.fixture
def hook() -> Iterator[types.ModuleType]:
    module = types.ModuleType(HOOK)
    sys.modules[HOOK] = module
    yield module
    del sys.modules[HOOK]


def _written(preds: np.ndarray) -> pa.RecordBatch:
    """The prediction as a batch prediction writes it and a serving worker answers it."""
    n = len(preds)
    batch = pa.record_batch({"id": list(range(n))})
    out = output_batch(batch, id_columns=["id"], predictions=preds, proba=None, classes=None, version=1,
                       run_id="r1", predicted_at=datetime(2024, 1, 1, tzinfo=UTC))
    json.dumps(_as_list(preds), allow_nan=False)  # the worker's JSON reply: no NaN, no inf
    return out


# -- the broad fuzz: the check functions, in process ----------------------------------
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipe=RECIPES, rows=st.integers(1, 6))
def test_any_answer_is_a_prediction_or_a_model_code_error(recipe: Recipe, rows: int) -> None:
    try:
        preds = predictions_of(recipe.build(rows), rows, RowNames(where=QUERY_ROWS, first=100))
    except ModelCodeError as exc:
        assert exc.code == "model_code_error" and exc.message
        return
    assert type(preds) is np.ndarray and preds.shape == (rows,)
    # what the job child sends, the supervisor checks again and takes as it is
    again, _ = checked_predictions(preds, None, rows, None)
    assert again.dtype == preds.dtype
    out = _written(preds)
    assert out.num_rows == rows
    column = out.column("prediction").to_pylist()
    nulls = [i for i, v in enumerate(column) if v is None]
    assert all(isinstance(v, float) and np.isnan(v) or v is None for v in np.asarray(preds, dtype=object)[nulls])


def test_a_duration_too_long_for_a_column_is_a_model_code_error_and_a_long_one_is_written() -> None:
    # found by the fuzz above: a timedelta beyond 64 bits of microseconds failed in Arrow
    with pytest.raises(ModelCodeError, match="duration too long"):
        predictions_of([timedelta(days=999_999_999)], 1, RowNames(where=QUERY_ROWS))
    preds = predictions_of([timedelta(days=100_000_000)], 1, RowNames(where=QUERY_ROWS))  # ~270,000 years
    assert _written(preds).column("prediction").to_pylist() == [timedelta(days=100_000_000)]


@settings(max_examples=300, deadline=None)
@given(recipe=RECIPES, rows=st.integers(1, 5), width=st.sampled_from([None, 2, 3]))
def test_any_probabilities_are_a_matrix_or_a_model_code_error(recipe: Recipe, rows: int, width: int | None) -> None:
    values = recipe.build(rows)
    if recipe.container == "matrix":
        values = np.array([[v if type(v) is float else 0.5 for v in recipe.cells(2)] or [0.5, 0.5]] * rows)
    try:
        proba = probabilities_of(values, rows, width)
    except ModelCodeError:
        return
    assert proba is None or (proba.dtype == np.float64 and proba.shape[0] == rows and np.isfinite(proba).all())


def _training_rows(task: str) -> tuple[pd.DataFrame, pd.Series | None]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=ROWS), "b": rng.normal(size=ROWS)})
    if task == "regression":
        return X, pd.Series(rng.normal(size=ROWS), name="y")
    if task == "classification":
        return X, pd.Series(np.where(np.arange(ROWS) % 2 == 0, "yes", "no"), name="y")
    if task == "integer_classes":
        return X, pd.Series(np.arange(ROWS) % 3, name="y")
    return X, None


def _train(hook: types.ModuleType, answer: Callable[[pd.DataFrame], Any], task: str) -> SoftqueryError | None:
    """Train through fit_and_evaluate and the round trip, as a job child does; the error, if any."""
    hook.answer = answer
    X, y = _training_rows(task)
    try:
        fit = fit_and_evaluate(CODE, X, y, label=None if y is None else "y", progress=_noop, capture=False)
        save_and_check(fit.model, CODE, X)
    except SoftqueryError as exc:
        return exc
    json.dumps(fit.metrics, allow_nan=False)
    return None


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(recipe=RECIPES, task=st.sampled_from(["regression", "classification", "integer_classes", "clustering"]))
def test_training_on_any_answer_succeeds_or_is_a_model_code_error(
        hook: types.ModuleType, recipe: Recipe, task: str) -> None:
    error = _train(hook, lambda X: recipe.build(len(X)), task)
    assert error is None or error.code in ("model_code_error", "training_failed"), error.to_dict()


# -- representative answers: the message names the problem and the rows ---------------
def test_nan_in_the_holdout_names_the_rows(hook: types.ModuleType) -> None:
    def answer(X: pd.DataFrame) -> np.ndarray:
        out = X["a"].to_numpy().copy()
        out[::2] = np.nan
        return out

    error = _train(hook, answer, "regression")
    assert isinstance(error, ModelCodeError)
    assert "no prediction (None or NaN) for 3 of the 5 holdout rows" in error.message
    assert error.details["bad_row_count"] == 3 and len(error.details["bad_rows"]) == 3
    rows = ", ".join(str(r) for r in error.details["bad_rows"][:2])
    assert rows in error.message and "of the training rows (X.index)" in error.message


@pytest.mark.parametrize(("answer", "message"), [
    (lambda X: np.full(len(X), np.inf), "infinite number at rows"),
    (lambda X: [1.0] * (len(X) - 1) + ["x"], "numbers and text together (text at row"),
    (lambda X: pd.DataFrame({"p": X["a"], "q": X["b"]}), "a DataFrame with 2 columns (p, q)"),
    (lambda X: [[v, v] for v in X["a"]], "a list of 5 lists of 2 values"),
    (lambda X: (v for v in X["a"]), "returned a generator (an iterator)"),
    (lambda X: 3.0, "returned a single float"),
    (lambda X: [1.0] * (len(X) + 1), "returned 6 value(s) for 5 input rows"),
    (lambda X: ["a"] * len(X), "text ('a', 'a', 'a' at rows"),
    (lambda X: [{"a": 1}] * len(X), "a value of type dict at rows"),
])
def test_regression_answers(hook: types.ModuleType, answer: Callable[[pd.DataFrame], Any], message: str) -> None:
    error = _train(hook, answer, "regression")
    assert isinstance(error, ModelCodeError) and message in error.message, error


def test_a_class_the_label_never_had_names_the_rows(hook: types.ModuleType) -> None:
    error = _train(hook, lambda X: ["maybe"] * len(X), "classification")
    assert isinstance(error, ModelCodeError)
    assert "returned 'maybe', 'maybe', 'maybe' at rows" in error.message and "('no', 'yes')" in error.message


def test_good_answers_of_every_shape_train(hook: types.ModuleType) -> None:
    for answer in (lambda X: list(X["a"]), lambda X: X["a"], lambda X: X[["a"]],
                   lambda X: X[["a"]].to_numpy(), lambda X: [[v] for v in X["a"]]):
        assert _train(hook, answer, "regression") is None
    assert _train(hook, lambda X: np.where(X["a"] > 0, "yes", "no"), "classification") is None
    assert _train(hook, lambda X: (X["a"] > 0).astype(int), "integer_classes") is None


def test_a_batch_names_rows_of_the_predict_query() -> None:
    class Trained:
        def predict(self, X: pd.DataFrame) -> Any:
            return np.where(X["a"] > 2, np.inf, 1.0)

    from softquery.data import FeatureSpec

    loaded = LoadedModel(Trained(), [FeatureSpec("a", "double", "numeric")])
    batch = pa.record_batch({"a": [1.0, 3.0, 1.0, 5.0]})
    with pytest.raises(ModelCodeError, match=r"rows 1,001 and 1,003 of the predict query's result"):
        loaded.checked_predict(batch, False, RowNames(where=QUERY_ROWS, first=1000))


def test_null_predictions_are_written_as_null() -> None:
    preds = predictions_of([1.5, None, float("nan"), 2], 4)
    assert preds.dtype == np.float64
    assert _written(preds).column("prediction").to_pylist() == [1.5, None, None, 2.0]
    labels = predictions_of(np.array(["yes", None, np.nan], dtype=object), 3)
    assert _written(labels).column("prediction").to_pylist() == ["yes", None, None]
    assert _as_list(preds) == [1.5, None, None, 2.0]


def test_a_serving_worker_answers_nan_as_null_and_refuses_infinity() -> None:
    import pickle

    from softquery.data import FeatureSpec
    from softquery.serving.worker import _answer

    class Conn:
        def __init__(self) -> None:
            self.sent: list[Any] = []

        def send_bytes(self, data: bytes) -> None:
            self.sent.append(pickle.loads(data))  # noqa: S301 - our own test's bytes

    class Trained:
        def predict(self, X: pd.DataFrame) -> Any:
            return np.where(X["a"] > 4, np.inf, np.where(X["a"] > 2, np.nan, X["a"]))

    models = {"k": LoadedModel(Trained(), [FeatureSpec("a", "double", "numeric")])}
    conn = Conn()
    _answer(conn, models, [("predict", 1, "k", np.array([[1.0], [3.0]]), False),  # type: ignore[arg-type]
                           ("predict", 2, "k", np.array([[1.0], [5.0]]), False)])
    first, second = conn.sent
    assert first == {"id": 1, "ok": True, "predictions": [1.0, None]}
    assert second["ok"] is False and second["error"]["code"] == "model_code_error"
    assert "infinite number at row 1 of the request (counting from 0)" in second["error"]["message"]


def test_complex_probabilities_are_a_model_code_error() -> None:
    """A cast to float would keep 0.5 of 0.5+1j silently; complex numbers are no probabilities."""
    for values in (np.array([[0.5 + 1j, 0.5], [0.2, 0.8]]), [[0.5 + 0j, 0.5], [0.2, 0.8]]):
        with pytest.raises(ModelCodeError, match="one row of class probabilities"):
            probabilities_of(values, 2, 2)
    assert probabilities_of(np.array([[0.5, 0.5], [0.2, 0.8]]), 2, 2) is not None  # the control
