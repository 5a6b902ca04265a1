"""Template parameters are rendered into the template's code as a person would edit it."""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd
import pytest

from softquery.errors import InvalidInputError, ModelCodeError
from softquery.modelcode.template_parameters import with_parameters
from softquery.modelcode.templates import template_code
from softquery.training.fit import fit_and_evaluate


def _keywords(code: str, call: str) -> dict[str, object]:
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == call:
            return {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
    raise AssertionError(f"no {call}(...) call")


def test_a_written_keyword_is_replaced_and_a_new_one_added() -> None:
    code = with_parameters(template_code("kmeans"), {"KMeans": {"n_clusters": 3, "max_iter": 50}})
    assert _keywords(code, "KMeans") == {"n_clusters": 3, "random_state": 0, "max_iter": 50}
    assert "# Set n_clusters" in code  # the rest of the template (its comments) is kept


def test_a_call_without_arguments_gets_them_and_inf_is_python() -> None:
    code = with_parameters(template_code("linear_regression"), {"LinearRegression": {"fit_intercept": False}})
    assert _keywords(code, "LinearRegression") == {"fit_intercept": False}
    code = with_parameters(template_code("logistic_regression"), {"LogisticRegression": {"C": float("inf")}})
    assert "C=float('inf')" in code
    compile(code, "model.py", "exec")


def test_class_attributes_are_set_after_task() -> None:
    code = with_parameters(template_code("ridge_regression"), attributes={"holdout_fraction": 0.3})
    model = next(n for n in ast.parse(code).body if isinstance(n, ast.ClassDef))
    first, second = model.body[0], model.body[1]
    assert isinstance(first, ast.Assign) and isinstance(second, ast.Assign)
    assert ast.unparse(second) == "holdout_fraction = 0.3"
    again = with_parameters(code, attributes={"holdout_fraction": 0.1})
    assert "holdout_fraction = 0.1" in again and "0.3" not in again


def test_a_missing_call_is_named() -> None:
    with pytest.raises(InvalidInputError, match="Ridge"):
        with_parameters(template_code("linear_regression"), {"Ridge": {"alpha": 1.0}})


def _rows(n: int = 100) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"price": rng.uniform(1, 10, n)})
    return X, pd.Series(3 * X["price"] + rng.normal(0, 0.1, n), name="quality")


def _noop(_phase: str, _fraction: float | None, _detail: str = "") -> None:
    return None


def test_training_holds_out_the_fraction_the_model_asks_for() -> None:
    X, y = _rows()
    code = with_parameters(template_code("linear_regression"), attributes={"holdout_fraction": 0.4})
    split = fit_and_evaluate(code, X, y, label="quality", progress=_noop).evaluation["split"]
    assert (split["test_fraction"], split["test_rows"], split["train_rows"]) == (0.4, 40, 60)
    code = with_parameters(template_code("linear_regression"), attributes={"holdout_fraction": 0})
    result = fit_and_evaluate(code, X, y, label="quality", progress=_noop)
    assert result.evaluation["split"]["method"] == "none"
    assert any("holdout_fraction" in note for note in result.notes)
    code = with_parameters(template_code("linear_regression"), attributes={"holdout_fraction": 1.5})
    with pytest.raises(ModelCodeError, match="holdout_fraction"):
        fit_and_evaluate(code, X, y, label="quality", progress=_noop)
